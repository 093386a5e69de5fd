package io.tramontane.constraint;

/**
 * Its item {@code min..max} times with nothing in between (parallel tool calls, each starting with a control
 * token; the nine characters of a call id). A symbol that can start another item does, so items must not
 * be able to start with what may follow the repetition.
 */
final class RepeatShape implements Node {
    private final Node item;
    private final int min, max;
    private final At start;

    RepeatShape(Node item, int min, int max) {
        if (min < 0 || max < Math.max(1, min)) throw new IllegalArgumentException("bad repeat bounds " + min + ".." + max);
        this.item = item;
        this.min = min;
        this.max = max;
        this.start = new At(this, 0);
    }

    @Override
    public Frame start() {
        return start;
    }

    /** After {@code count} items. */
    record At(RepeatShape shape, int count) implements Frame {
        @Override
        public State read(State below, int symbol) {
            if (count < shape.max) {
                State next = shape.item.start().read(below.push(new At(shape, count + 1)), symbol);
                if (next != null) return next;
            }
            return count >= shape.min ? below.read(symbol) : null;
        }

        @Override
        public boolean canEnd() {
            return count >= shape.min;
        }
    }
}
