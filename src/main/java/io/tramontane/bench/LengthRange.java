package io.tramontane.bench;

import java.util.SplittableRandom;

/** A token count, fixed ({@code 128}) or drawn uniformly from an inclusive range ({@code 64:256}). */
public record LengthRange(int min, int max) {
    public LengthRange {
        if (min < 1 || max < min) throw new IllegalArgumentException("length range needs 1 <= min <= max, got " + min + ":" + max);
    }

    public static LengthRange parse(String spec) {
        String[] parts = spec.strip().split(":", 2);
        try {
            int min = Integer.parseInt(parts[0].strip());
            return new LengthRange(min, parts.length == 1 ? min : Integer.parseInt(parts[1].strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected N or MIN:MAX, got '" + spec + "'");
        }
    }

    int sample(SplittableRandom random) {
        return min == max ? min : random.nextInt(min, max + 1);
    }

    @Override
    public String toString() {
        return min == max ? Integer.toString(min) : min + ":" + max;
    }
}
