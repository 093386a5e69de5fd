package io.tramontane.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Vector API inner loops over float arrays. */
final class VectorMath {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {}

    /**
     * The lanes of {@code v} summed first to last. Not {@code reduceLanes(ADD)}: its order is unspecified
     * and differs between the interpreter and the JIT tiers, which would make results depend on warm-up.
     */
    static float sumLanes(FloatVector v) {
        float sum = 0;
        for (int i = 0; i < v.length(); i++) sum += v.lane(i);
        return sum;
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
