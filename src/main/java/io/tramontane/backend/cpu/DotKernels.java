package io.tramontane.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of FP32 weight rows (decoded into an L1-resident block by {@link RowBlockDecoder}) with
 * token activations: one row with one token, and four rows with four tokens (prefill: each loaded vector
 * feeds four FMAs).
 *
 * <p>The order, shared by every kernel here and in {@link FusedRows}: a row of n features is read in chunks
 * of L (the vector length); chunk j goes into lane-wise accumulator {@code j % 4} by FMA, in order (four
 * independent chains hide the FMA latency while one row streams from memory); the four are added as
 * {@code (a0 + a1) + (a2 + a3)}, the lanes summed by the fixed butterfly of
 * {@link VectorMath#sumLanes(float[], int)} ({@link LaneSums}), then the scalar tail {@code [vectorEnd, n)}
 * is added. The 4x4 tiles keep sixteen accumulators, so they make four passes, pass p over the chunks
 * {@code j % 4 == p}. Every (row, token) sum is thus the same sequence of operations whichever kernel
 * computes it: a request yields identical logits alone or in any batch, before or after the JIT compiles.
 */
final class DotKernels {
    static final VectorSpecies<Float> F = VectorMath.SPECIES;
    private static final int L = F.length();
    /** Floats of the {@code lanes} scratch the kernels take: four passes of sixteen accumulators. */
    static final int LANES = 64 * L;

    private DotKernels() {}

    /** Vectors cover {@code [0, vectorEnd)} (a multiple of L), scalars the rest. */
    static float dot1(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= vectorEnd; i += 4 * L) {
            a0 = FloatVector.fromArray(F, w, w0 + i).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = FloatVector.fromArray(F, w, w0 + i + L).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a2 = FloatVector.fromArray(F, w, w0 + i + 2 * L).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a2);
            a3 = FloatVector.fromArray(F, w, w0 + i + 3 * L).fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a3);
        }
        if (i < vectorEnd) {
            a0 = FloatVector.fromArray(F, w, w0 + i).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = FloatVector.fromArray(F, w, w0 + i).fma(FloatVector.fromArray(F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) a2 = FloatVector.fromArray(F, w, w0 + i).fma(FloatVector.fromArray(F, x, x0 + i), a2);
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        return tail(w, w0, x, x0, vectorEnd, n, LaneSums.sum1(lanes));
    }

    /** Rows at {@code w0 + r * n} with the tokens at {@code x0 + t * n} (r, t < 4): {@code sums[4 * r + t]}. */
    static void tile4x4(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] sums, float[] lanes) {
        for (int pass = 0; pass < 4; pass++) pass4x4(w, w0, x, x0, n, vectorEnd, pass, lanes);
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) sums[k] = tail(w, w0 + (k >> 2) * n, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
    }

    /** Pass {@code pass} of {@link #tile4x4}: the chunks j with j % 4 == pass, partials into {@code lanes[16 pass L ..]}. */
    private static void pass4x4(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, int pass, float[] lanes) {
        int w1 = w0 + n, w2 = w1 + n, w3 = w2 + n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int i = pass * L; i < vectorEnd; i += 4 * L) {
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = FloatVector.fromArray(F, w, w0 + i);
            c00 = r.fma(t0, c00);
            c01 = r.fma(t1, c01);
            c02 = r.fma(t2, c02);
            c03 = r.fma(t3, c03);
            r = FloatVector.fromArray(F, w, w1 + i);
            c10 = r.fma(t0, c10);
            c11 = r.fma(t1, c11);
            c12 = r.fma(t2, c12);
            c13 = r.fma(t3, c13);
            r = FloatVector.fromArray(F, w, w2 + i);
            c20 = r.fma(t0, c20);
            c21 = r.fma(t1, c21);
            c22 = r.fma(t2, c22);
            c23 = r.fma(t3, c23);
            r = FloatVector.fromArray(F, w, w3 + i);
            c30 = r.fma(t0, c30);
            c31 = r.fma(t1, c31);
            c32 = r.fma(t2, c32);
            c33 = r.fma(t3, c33);
        }
        int o = 16 * pass * L;
        c00.intoArray(lanes, o);
        c01.intoArray(lanes, o + L);
        c02.intoArray(lanes, o + 2 * L);
        c03.intoArray(lanes, o + 3 * L);
        c10.intoArray(lanes, o + 4 * L);
        c11.intoArray(lanes, o + 5 * L);
        c12.intoArray(lanes, o + 6 * L);
        c13.intoArray(lanes, o + 7 * L);
        c20.intoArray(lanes, o + 8 * L);
        c21.intoArray(lanes, o + 9 * L);
        c22.intoArray(lanes, o + 10 * L);
        c23.intoArray(lanes, o + 11 * L);
        c30.intoArray(lanes, o + 12 * L);
        c31.intoArray(lanes, o + 13 * L);
        c32.intoArray(lanes, o + 14 * L);
        c33.intoArray(lanes, o + 15 * L);
    }

    /** Adds the scalar tail {@code [from, n)} to a lane sum. */
    private static float tail(float[] w, int w0, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }
}
