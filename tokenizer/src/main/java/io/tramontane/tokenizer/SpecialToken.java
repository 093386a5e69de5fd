package io.tramontane.tokenizer;

/** A control token: its id (below the number of special tokens) and its name, e.g. 3 and {@code [INST]}. */
public record SpecialToken(int id, String name) {
    public SpecialToken {
        if (id < 0) throw new IllegalArgumentException("special token id must be >= 0, got " + id);
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("special token " + id + " needs a name");
    }
}
