package io.tramontane.tokenizer;

/** What decoding does with special (control) token ids. */
public enum SpecialTokenPolicy {
    /** Write the token's name, e.g. {@code [INST]}. */
    KEEP,
    /** Drop the token. */
    IGNORE,
    /** Throw {@link IllegalArgumentException}. */
    RAISE
}
