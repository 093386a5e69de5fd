package io.tramontane.tokenizer;

import java.util.Locale;

/** The Tekken tokenizer versions: each one fixes the control tokens and the chat prompt format. */
public enum TokenizerVersion {
    V3, V7, V11, V13, V15;

    /** Parses the {@code config.version} string of a tekken.json ("v3", "v13", ...). */
    public static TokenizerVersion parse(String text) {
        for (TokenizerVersion version : values()) {
            if (version.label().equals(text)) return version;
        }
        throw new IllegalArgumentException("unknown tokenizer version '" + text + "', expected one of v3, v7, v11, v13, v15");
    }

    /** The spelling used in tekken.json: "v3", "v7", ... */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean atLeast(TokenizerVersion other) {
        return compareTo(other) >= 0;
    }
}
