package io.tramontane.constraint;

/** Exactly one control token (such as {@code [TOOL_CALLS]} or {@code [ARGS]}), emitted as its id. */
record SpecialShape(int tokenId) implements Node, Frame {
    @Override
    public Frame start() {
        return this;
    }

    @Override
    public State read(State below, int symbol) {
        return symbol == SPECIAL + tokenId ? below : null;
    }

    @Override
    public boolean canEnd() {
        return false;
    }
}
