package io.tramontane.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of FP32 weight rows (decoded into an L1-resident block by {@link RowBlockDecoder}) with
 * token activations: one row and one token, four rows and one token (decode: four independent chains
 * hide the FMA latency), four rows and four tokens (batched decode and prefill: each loaded vector
 * feeds four FMAs).
 *
 * <p>Batch invariance: whichever kernel computes it, every (row, token) sum is the same sequence of
 * operations: one lane-wise FMA chain over the vector chunks in order, the lanes added pairwise in the fixed
 * butterfly of {@link VectorMath#sumLanes(FloatVector)} ({@link LaneSums} does several at once, with the same
 * pairs), then a scalar tail. So a request yields identical logits alone or in any batch, before or after
 * the JIT compiles the kernel.
 */
final class DotKernels {
    static final VectorSpecies<Float> F = VectorMath.SPECIES;
    private static final int L = F.length();

    private DotKernels() {}

    private static FloatVector v(float[] a, int offset) {
        return FloatVector.fromArray(F, a, offset);
    }

    /** Vectors cover {@code [0, vectorEnd)} (a multiple of L), scalars the rest. */
    static float dot1(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        FloatVector a = FloatVector.zero(F);
        int i = 0;
        for (; i < vectorEnd; i += L) a = v(w, w0 + i).fma(v(x, x0 + i), a);
        float sum = VectorMath.sumLanes(a);
        for (; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }

    /** Rows at {@code w0 + r * n} (r < 4) with one token: {@code sums[r]}. */
    static void rows4(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] sums, float[] lanes) {
        int w1 = w0 + n, w2 = w1 + n, w3 = w2 + n;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int i = 0;
        for (; i < vectorEnd; i += L) {
            FloatVector xi = v(x, x0 + i);
            a0 = v(w, w0 + i).fma(xi, a0);
            a1 = v(w, w1 + i).fma(xi, a1);
            a2 = v(w, w2 + i).fma(xi, a2);
            a3 = v(w, w3 + i).fma(xi, a3);
        }
        a0.intoArray(lanes, 0 * L);
        a1.intoArray(lanes, 1 * L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        LaneSums.sums4(lanes, sums);
        for (int r = 0; i < n && r < 4; r++) sums[r] = tail(w, w0 + r * n, x, x0, i, n, sums[r]);
    }

    /** Rows at {@code w0 + r * n} with the tokens at {@code x0 + t * n} (r, t < 4): {@code sums[4 * r + t]}. */
    static void tile4x4(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] sums, float[] lanes) {
        int w1 = w0 + n, w2 = w1 + n, w3 = w2 + n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        int i = 0;
        for (; i < vectorEnd; i += L) {
            FloatVector t0 = v(x, x0 + i), t1 = v(x, x1 + i), t2 = v(x, x2 + i), t3 = v(x, x3 + i);
            FloatVector r = v(w, w0 + i);
            c00 = r.fma(t0, c00);
            c01 = r.fma(t1, c01);
            c02 = r.fma(t2, c02);
            c03 = r.fma(t3, c03);
            r = v(w, w1 + i);
            c10 = r.fma(t0, c10);
            c11 = r.fma(t1, c11);
            c12 = r.fma(t2, c12);
            c13 = r.fma(t3, c13);
            r = v(w, w2 + i);
            c20 = r.fma(t0, c20);
            c21 = r.fma(t1, c21);
            c22 = r.fma(t2, c22);
            c23 = r.fma(t3, c23);
            r = v(w, w3 + i);
            c30 = r.fma(t0, c30);
            c31 = r.fma(t1, c31);
            c32 = r.fma(t2, c32);
            c33 = r.fma(t3, c33);
        }
        c00.intoArray(lanes, 0 * L);
        c01.intoArray(lanes, 1 * L);
        c02.intoArray(lanes, 2 * L);
        c03.intoArray(lanes, 3 * L);
        c10.intoArray(lanes, 4 * L);
        c11.intoArray(lanes, 5 * L);
        c12.intoArray(lanes, 6 * L);
        c13.intoArray(lanes, 7 * L);
        c20.intoArray(lanes, 8 * L);
        c21.intoArray(lanes, 9 * L);
        c22.intoArray(lanes, 10 * L);
        c23.intoArray(lanes, 11 * L);
        c30.intoArray(lanes, 12 * L);
        c31.intoArray(lanes, 13 * L);
        c32.intoArray(lanes, 14 * L);
        c33.intoArray(lanes, 15 * L);
        LaneSums.sums16(lanes, sums);
        for (int k = 0; i < n && k < 16; k++) sums[k] = tail(w, w0 + (k >> 2) * n, x, x0 + (k & 3) * n, i, n, sums[k]);
    }

    /** Adds the scalar tail {@code [from, n)} to a lane sum. */
    private static float tail(float[] w, int w0, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }
}
