package io.tramontane.constraint;

/**
 * A JSON string of {@code min..max} characters (code points; an escape is one character). The bytes are
 * checked as well-formed UTF-8 (no overlong forms, no surrogates), so a character may be split across
 * tokens: the frame remembers how many continuation bytes are still due and their allowed range. Raw
 * control characters are not allowed; escapes are JSON's, and {@code \\u} escapes may not name surrogates.
 */
final class StringShape implements Node {
    private static final int OPEN = 0, BODY = 1, ESCAPE = 2, HEX = 3, UTF8 = 4;

    private final int min, max;
    private final At start;

    StringShape(int min, int max) {
        if (min < 0 || max < min) throw new IllegalArgumentException("bad string length bounds " + min + ".." + max);
        this.min = min;
        this.max = max;
        this.start = new At(this, OPEN, 0, 0);
    }

    @Override
    public Frame start() {
        return start;
    }

    /**
     * @param length characters begun so far
     * @param detail HEX: digits read (bits 0-2) and "the first digit was d" (bit 3);
     *               UTF8: continuation bytes due (bits 0-7), lowest (8-15) and highest (16-23) allowed next byte
     */
    record At(StringShape shape, int phase, int length, int detail) implements Frame {
        @Override
        public State read(State below, int b) {
            if (b >= SPECIAL) return null;
            return switch (phase) {
                case OPEN -> b == '"' ? below.push(new At(shape, BODY, 0, 0)) : null;
                case BODY -> body(below, b);
                case ESCAPE -> switch (b) {
                    case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> below.push(new At(shape, BODY, length, 0));
                    case 'u' -> below.push(new At(shape, HEX, length, 0));
                    default -> null;
                };
                case HEX -> hex(below, b);
                default -> continuation(below, b);
            };
        }

        private State body(State below, int b) {
            if (b == '"') return length >= shape.min ? below : null;
            if (length == shape.max) return null;
            int next = length + 1;
            if (b == '\\') return below.push(new At(shape, ESCAPE, next, 0));
            if (b < 0x20) return null;
            if (b < 0x80) return below.push(new At(shape, BODY, next, 0));
            // a UTF-8 lead byte: how many continuation bytes follow, and the range of the first one
            if (b >= 0xC2 && b <= 0xDF) return utf8(below, next, 1, 0x80, 0xBF);
            if (b == 0xE0) return utf8(below, next, 2, 0xA0, 0xBF);
            if (b == 0xED) return utf8(below, next, 2, 0x80, 0x9F);
            if (b >= 0xE1 && b <= 0xEF) return utf8(below, next, 2, 0x80, 0xBF);
            if (b == 0xF0) return utf8(below, next, 3, 0x90, 0xBF);
            if (b >= 0xF1 && b <= 0xF3) return utf8(below, next, 3, 0x80, 0xBF);
            if (b == 0xF4) return utf8(below, next, 3, 0x80, 0x8F);
            return null;
        }

        private State utf8(State below, int length, int due, int low, int high) {
            return below.push(new At(shape, UTF8, length, due | low << 8 | high << 16));
        }

        private State continuation(State below, int b) {
            int due = detail & 0xFF, low = detail >> 8 & 0xFF, high = detail >> 16 & 0xFF;
            if (b < low || b > high) return null;
            return due == 1 ? below.push(new At(shape, BODY, length, 0)) : utf8(below, length, due - 1, 0x80, 0xBF);
        }

        private State hex(State below, int b) {
            int digits = detail & 7;
            boolean afterD = (detail & 8) != 0;
            int value = b < 0x80 ? Character.digit(b, 16) : -1;
            if (value < 0) return null;
            if (digits == 1 && afterD && value >= 8) return null;  // \uD800..\uDFFF: a surrogate
            if (digits == 3) return below.push(new At(shape, BODY, length, 0));
            return below.push(new At(shape, HEX, length, (digits + 1) | (digits == 0 && value == 0xD ? 8 : 0)));
        }

        @Override
        public boolean canEnd() {
            return false;
        }

        @Override
        public Frame maskKey(int reach) {
            return phase != OPEN && length != FREE && Frame.isFree(length, shape.min, shape.max, reach)
                    ? new At(shape, phase, FREE, detail) : this;
        }
    }
}
