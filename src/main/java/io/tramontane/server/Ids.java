package io.tramontane.server;

import java.util.UUID;

/** Response ids shaped like OpenAI's ({@code chatcmpl-...}, {@code cmpl-...}). */
final class Ids {
    private Ids() {}

    static String chatCompletion() {
        return "chatcmpl-" + random();
    }

    static String completion() {
        return "cmpl-" + random();
    }

    private static String random() {
        return UUID.randomUUID().toString().replace("-", "");
    }
}
