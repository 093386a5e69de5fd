package io.tramontane.constraint;

/**
 * One of several values told apart by their first byte ({@code ["string", "null"]}, an {@code anyOf} of an
 * object and an array). {@link SchemaCompiler} builds it only when no two alternatives share a first byte.
 */
final class UnionShape implements Node, Frame {
    private final Node[] byFirstByte;

    UnionShape(Node[] byFirstByte) {
        this.byFirstByte = byFirstByte.clone();
    }

    @Override
    public Frame start() {
        return this;
    }

    @Override
    public State read(State below, int symbol) {
        Node branch = symbol < SPECIAL ? byFirstByte[symbol] : null;
        return branch == null ? null : branch.start().read(below, symbol);
    }

    @Override
    public boolean canEnd() {
        return false;
    }
}
