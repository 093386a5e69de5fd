package io.tramontane.constraint;

import java.util.ArrayList;
import java.util.List;

/**
 * A JSON object with a fixed list of properties, written in the order they are declared: any optional
 * property may be skipped, a required one may not, and none appears twice. Keeping the declared order makes
 * "which properties may still come" a single index instead of a set, so the states stay few.
 */
final class ObjectShape implements Node {
    private static final int OPEN = 0, FIRST = 1, KEY = 2, COLON = 3, AFTER_COLON = 4, VALUE = 5, AFTER_VALUE = 6, AFTER_COMMA = 7;

    /** A property: its key as written (quoted, escaped), its value, whether it must appear. */
    record Property(byte[] key, Node value, boolean required) {}

    private final Property[] properties;
    private final ByteTrie keys;
    private final int[] nextRequired;  // [i]: the first required property at or after i, or the count
    private final At start;

    ObjectShape(List<Property> properties) {
        this.properties = properties.toArray(Property[]::new);
        List<byte[]> keyBytes = new ArrayList<>();
        for (Property p : properties) keyBytes.add(p.key());
        this.keys = new ByteTrie(keyBytes);
        int n = this.properties.length;
        this.nextRequired = new int[n + 1];
        nextRequired[n] = n;
        for (int i = n - 1; i >= 0; i--) nextRequired[i] = this.properties[i].required() ? i : nextRequired[i + 1];
        this.start = new At(this, OPEN, 0, 0);
    }

    @Override
    public Frame start() {
        return start;
    }

    /** The last property that may come next when {@code next} is the first one not yet passed. */
    private int lastChoice(int next) {
        return Math.min(nextRequired[next], properties.length - 1);
    }

    /**
     * @param index KEY, AFTER_VALUE, AFTER_COMMA, FIRST: the first property that may still come;
     *              COLON, AFTER_COLON, VALUE: the property being written
     * @param node  KEY: where the key bytes read so far stand in the key trie
     */
    record At(ObjectShape shape, int phase, int index, int node) implements Frame {
        @Override
        public State read(State below, int b) {
            int n = shape.properties.length;
            return switch (phase) {
                case OPEN -> b == '{' ? below.push(new At(shape, FIRST, 0, 0)) : null;
                case FIRST -> b == '}' ? (shape.nextRequired[0] == n ? below : null) : key(below, b, 0);
                case KEY -> key(below, b, node);
                case COLON -> b == ':' ? below.push(new At(shape, AFTER_COLON, index, 0)) : null;
                case AFTER_COLON -> b == ' ' ? below.push(new At(shape, VALUE, index, 0)) : value(below, b);
                case VALUE -> value(below, b);
                case AFTER_VALUE -> {
                    if (b == ',') yield index < n ? below.push(new At(shape, AFTER_COMMA, index, 0)) : null;
                    yield b == '}' && shape.nextRequired[index] == n ? below : null;
                }
                default -> b == ' ' ? below.push(new At(shape, KEY, index, 0)) : key(below, b, 0);
            };
        }

        /** One more key byte from trie node {@code from}; the closing quote makes keys prefix-free. */
        private State key(State below, int b, int from) {
            if (index >= shape.properties.length) return null;
            int child = shape.keys.child(from, b);
            if (child < 0 || !shape.keys.reaches(child, index, shape.lastChoice(index))) return null;
            int property = shape.keys.entry(child);
            return below.push(property >= 0 ? new At(shape, COLON, property, 0) : new At(shape, KEY, index, child));
        }

        private State value(State below, int b) {
            return shape.properties[index].value().start().read(below.push(new At(shape, AFTER_VALUE, index + 1, 0)), b);
        }

        @Override
        public boolean canEnd() {
            return false;
        }
    }
}
