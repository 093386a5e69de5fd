package io.tramontane.constraint;

/** A JSON array of {@code min..max} items, written {@code [a,b]} or {@code [a, b]} (one optional space after a comma). */
final class ArrayShape implements Node {
    private static final int OPEN = 0, FIRST = 1, AFTER_ITEM = 2, AFTER_COMMA = 3, ITEM = 4;

    private final Node items;
    private final int min, max;
    private final At start;

    ArrayShape(Node items, int min, int max) {
        if (min < 0 || max < min) throw new IllegalArgumentException("bad array bounds " + min + ".." + max);
        this.items = items;
        this.min = min;
        this.max = max;
        this.start = new At(this, OPEN, 0);
    }

    @Override
    public Frame start() {
        return start;
    }

    /** @param count items begun so far */
    record At(ArrayShape shape, int phase, int count) implements Frame {
        @Override
        public State read(State below, int b) {
            return switch (phase) {
                case OPEN -> b == '[' ? below.push(new At(shape, FIRST, 0)) : null;
                case FIRST -> b == ']' ? (shape.min == 0 ? below : null) : (shape.max > 0 ? item(below, b) : null);
                case AFTER_ITEM -> {
                    if (b == ',') yield count < shape.max ? below.push(new At(shape, AFTER_COMMA, count)) : null;
                    yield b == ']' && count >= shape.min ? below : null;
                }
                case AFTER_COMMA -> b == ' ' ? below.push(new At(shape, ITEM, count)) : item(below, b);
                default -> item(below, b);
            };
        }

        private State item(State below, int b) {
            return shape.items.start().read(below.push(new At(shape, AFTER_ITEM, count + 1)), b);
        }

        @Override
        public boolean canEnd() {
            return false;
        }

        @Override
        public Frame maskKey(int reach) {
            return count != FREE && Frame.isFree(count, shape.min, shape.max, reach) ? new At(shape, phase, FREE) : this;
        }
    }
}
