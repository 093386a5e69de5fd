package io.tramontane.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.tokenizer.Tekken;
import java.nio.charset.StandardCharsets;

/** A token as OpenAI's logprobs show it: its text, its UTF-8 bytes and its log-probability. */
final class TokenJson {
    private final Tekken tekken;

    TokenJson(Tekken tekken) {
        this.tekken = tekken;
    }

    String text(int token) {
        return tekken.tokenText(token);
    }

    /** Raw bytes: a token may hold part of a UTF-8 character, which its text cannot show. */
    byte[] bytes(int token) {
        return tekken.isSpecial(token) ? tekken.tokenText(token).getBytes(StandardCharsets.UTF_8) : tekken.tokenBytes(token);
    }

    ObjectNode entry(int token, float logprob) {
        ObjectNode entry = JsonNodeFactory.instance.objectNode();
        entry.put("token", text(token));
        entry.put("logprob", Float.isFinite(logprob) ? logprob : -9999f);
        var bytes = entry.putArray("bytes");
        for (byte b : bytes(token)) bytes.add(b & 0xff);
        return entry;
    }
}
