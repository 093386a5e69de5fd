package io.tramontane.constraint;

/**
 * A JSON number without exponent: {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?}, with at most {@code maxIntegerDigits}
 * digits before the point and {@code maxFractionDigits} after it (none for an integer). The number ends
 * at the first symbol that cannot continue it, which the enclosing frame then reads.
 */
final class NumberShape implements Node {
    private static final int START = 0, MINUS = 1, ZERO = 2, INTEGER = 3, POINT = 4, FRACTION = 5;

    private final int maxIntegerDigits, maxFractionDigits;
    private final At start;

    NumberShape(boolean integer, int maxIntegerDigits, int maxFractionDigits) {
        if (maxIntegerDigits < 1) throw new IllegalArgumentException("a number needs at least one digit");
        this.maxIntegerDigits = maxIntegerDigits;
        this.maxFractionDigits = integer ? 0 : maxFractionDigits;
        this.start = new At(this, START, 0);
    }

    @Override
    public Frame start() {
        return start;
    }

    /** @param digits digits read in the current part (integer or fraction) */
    record At(NumberShape shape, int phase, int digits) implements Frame {
        @Override
        public State read(State below, int b) {
            boolean digit = b >= '0' && b <= '9';
            return switch (phase) {
                case START, MINUS -> {
                    if (b == '-' && phase == START) yield below.push(new At(shape, MINUS, 0));
                    if (b == '0') yield below.push(new At(shape, ZERO, 1));
                    yield digit ? below.push(new At(shape, INTEGER, 1)) : null;
                }
                case ZERO, INTEGER -> {
                    if (digit && phase == INTEGER && digits < shape.maxIntegerDigits) yield below.push(new At(shape, INTEGER, digits + 1));
                    if (b == '.' && shape.maxFractionDigits > 0) yield below.push(new At(shape, POINT, 0));
                    yield below.read(b);
                }
                case POINT -> digit ? below.push(new At(shape, FRACTION, 1)) : null;
                default -> {
                    if (digit && digits < shape.maxFractionDigits) yield below.push(new At(shape, FRACTION, digits + 1));
                    yield below.read(b);
                }
            };
        }

        @Override
        public boolean canEnd() {
            return phase == ZERO || phase == INTEGER || phase == FRACTION;
        }
    }
}
