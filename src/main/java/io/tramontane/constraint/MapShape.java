package io.tramontane.constraint;

/**
 * A JSON object with free keys (strings) and values of one shape, at most {@code maxMembers} of them: the
 * {@code json_object} mode, {@code {"type": "object"}} without properties, {@code additionalProperties: schema}.
 * Keys are not checked for uniqueness (that would put every key in the state).
 */
final class MapShape implements Node {
    private static final int OPEN = 0, FIRST = 1, COLON = 2, AFTER_COLON = 3, VALUE = 4, AFTER_VALUE = 5, AFTER_COMMA = 6, KEY = 7;

    private final Node key, value;
    private final int maxMembers;
    private final At start;

    MapShape(Node key, Node value, int maxMembers) {
        this.key = key;
        this.value = value;
        this.maxMembers = maxMembers;
        this.start = new At(this, OPEN, 0);
    }

    @Override
    public Frame start() {
        return start;
    }

    /** @param count members begun so far */
    record At(MapShape shape, int phase, int count) implements Frame {
        @Override
        public State read(State below, int b) {
            return switch (phase) {
                case OPEN -> b == '{' ? below.push(new At(shape, FIRST, 0)) : null;
                case FIRST -> b == '}' ? below : (shape.maxMembers > 0 ? key(below, b) : null);
                case COLON -> b == ':' ? below.push(new At(shape, AFTER_COLON, count)) : null;
                case AFTER_COLON -> b == ' ' ? below.push(new At(shape, VALUE, count)) : value(below, b);
                case VALUE -> value(below, b);
                case AFTER_VALUE -> {
                    if (b == ',') yield count < shape.maxMembers ? below.push(new At(shape, AFTER_COMMA, count)) : null;
                    yield b == '}' ? below : null;
                }
                case AFTER_COMMA -> b == ' ' ? below.push(new At(shape, KEY, count)) : key(below, b);
                default -> key(below, b);
            };
        }

        private State key(State below, int b) {
            return shape.key.start().read(below.push(new At(shape, COLON, count + 1)), b);
        }

        private State value(State below, int b) {
            return shape.value.start().read(below.push(new At(shape, AFTER_VALUE, count)), b);
        }

        @Override
        public boolean canEnd() {
            return false;
        }

        @Override
        public Frame maskKey(int reach) {
            return count != FREE && Frame.isFree(count, 0, shape.maxMembers, reach) ? new At(shape, phase, FREE) : this;
        }
    }
}
