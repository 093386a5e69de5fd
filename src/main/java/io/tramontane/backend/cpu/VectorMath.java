package io.tramontane.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Vector API inner loops over float arrays. */
final class VectorMath {
    /** The machine's preferred float vectors, kept within 4..16 lanes (the widths {@link LaneSums} folds). */
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED.length() > 16 ? FloatVector.SPECIES_512
            : FloatVector.SPECIES_PREFERRED.length() < 4 ? FloatVector.SPECIES_128 : FloatVector.SPECIES_PREFERRED;

    private VectorMath() {}

    /** Butterfly partners: lane i with lane i ^ step, for step = L/2, L/4, ..., 1. */
    private static final VectorShuffle<Float>[] BUTTERFLY = butterfly();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] butterfly() {
        int steps = Integer.numberOfTrailingZeros(SPECIES.length());
        VectorShuffle<Float>[] shuffles = new VectorShuffle[steps];
        for (int s = 0; s < steps; s++) {
            int step = SPECIES.length() >> (s + 1);
            shuffles[s] = VectorShuffle.fromOp(SPECIES, i -> i ^ step);
        }
        return shuffles;
    }

    /**
     * The lanes of {@code v} summed by a fixed butterfly of vector adds. Not {@code reduceLanes(ADD)}: its order
     * is unspecified and differs between the interpreter and the JIT tiers, which would make results depend
     * on warm-up. Every add here is an exact IEEE lane-wise operation, so every tier gets the same bits.
     */
    static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> partners : BUTTERFLY) v = v.add(v.rearrange(partners));
        return v.lane(0);
    }

    /**
     * The same butterfly as {@link #sumLanes(FloatVector)}, over lanes already stored at {@code lanes[offset ..
     * offset + L)} (clobbered). Large kernels store their accumulators and reduce here: a vector handed to a
     * call that C2 declines to inline is boxed, which cost the 4x4 tiles half their speed.
     */
    static float sumLanes(float[] lanes, int offset) {
        for (int step = SPECIES.length() / 2; step >= 1; step /= 2) {
            for (int i = 0; i < step; i++) lanes[offset + i] += lanes[offset + i + step];
        }
        return lanes[offset];
    }

    /** {@code sum_i a[aOffset + i] * b[bOffset + i]} for {@code i < n}. */
    static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += SPECIES.length()) {
            acc = FloatVector.fromArray(SPECIES, a, aOffset + i).fma(FloatVector.fromArray(SPECIES, b, bOffset + i), acc);
        }
        float sum = sumLanes(acc);
        for (; i < n; i++) sum += a[aOffset + i] * b[bOffset + i];
        return sum;
    }

    /** {@code y[yOffset + i] += alpha * x[xOffset + i]} for {@code i < n}. */
    static void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
        FloatVector a = FloatVector.broadcast(SPECIES, alpha);
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, x, xOffset + i).fma(a, FloatVector.fromArray(SPECIES, y, yOffset + i))
                    .intoArray(y, yOffset + i);
        }
        for (; i < n; i++) y[yOffset + i] += alpha * x[xOffset + i];
    }
}
