package io.tramontane.constraint;

import java.util.List;

/** Its parts one after the other (a tool call: control token, name, control token, arguments). */
final class SequenceShape implements Node {
    private final Node[] parts;
    private final At start;

    SequenceShape(List<Node> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("a sequence needs parts");
        this.parts = parts.toArray(Node[]::new);
        this.start = new At(this, 0);
    }

    @Override
    public Frame start() {
        return start;
    }

    /** Before part {@code index}. The last part replaces this frame, so a finished sequence never stays on the stack. */
    record At(SequenceShape shape, int index) implements Frame {
        @Override
        public State read(State below, int symbol) {
            Node[] parts = shape.parts;
            State after = index + 1 == parts.length ? below : below.push(new At(shape, index + 1));
            return parts[index].start().read(after, symbol);
        }

        @Override
        public boolean canEnd() {
            for (int i = index; i < shape.parts.length; i++) if (!shape.parts[i].start().canEnd()) return false;
            return true;
        }
    }
}
