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
 * operations: one lane-wise FMA chain over the vector chunks in order, the lanes stored and summed by
 * {@link VectorMath#sumLanes(float[], int)}, then a scalar tail. Kernels take a {@code lanes} scratch of
 * 16 vectors for that. So a request yields identical logits alone or in any batch, before or after the
 * JIT compiles the kernel.
 */
final class DotKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
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
        a.intoArray(lanes, 0);
        float sum = VectorMath.sumLanes(lanes, 0);
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
        float s0 = VectorMath.sumLanes(lanes, 0), s1 = VectorMath.sumLanes(lanes, L);
        float s2 = VectorMath.sumLanes(lanes, 2 * L), s3 = VectorMath.sumLanes(lanes, 3 * L);
        for (; i < n; i++) {
            float xi = x[x0 + i];
            s0 += w[w0 + i] * xi;
            s1 += w[w1 + i] * xi;
            s2 += w[w2 + i] * xi;
            s3 += w[w3 + i] * xi;
        }
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
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
        sums[0] = tail(w, w0, x, x0, i, n, VectorMath.sumLanes(lanes, 0 * L));
        sums[1] = tail(w, w0, x, x1, i, n, VectorMath.sumLanes(lanes, 1 * L));
        sums[2] = tail(w, w0, x, x2, i, n, VectorMath.sumLanes(lanes, 2 * L));
        sums[3] = tail(w, w0, x, x3, i, n, VectorMath.sumLanes(lanes, 3 * L));
        sums[4] = tail(w, w1, x, x0, i, n, VectorMath.sumLanes(lanes, 4 * L));
        sums[5] = tail(w, w1, x, x1, i, n, VectorMath.sumLanes(lanes, 5 * L));
        sums[6] = tail(w, w1, x, x2, i, n, VectorMath.sumLanes(lanes, 6 * L));
        sums[7] = tail(w, w1, x, x3, i, n, VectorMath.sumLanes(lanes, 7 * L));
        sums[8] = tail(w, w2, x, x0, i, n, VectorMath.sumLanes(lanes, 8 * L));
        sums[9] = tail(w, w2, x, x1, i, n, VectorMath.sumLanes(lanes, 9 * L));
        sums[10] = tail(w, w2, x, x2, i, n, VectorMath.sumLanes(lanes, 10 * L));
        sums[11] = tail(w, w2, x, x3, i, n, VectorMath.sumLanes(lanes, 11 * L));
        sums[12] = tail(w, w3, x, x0, i, n, VectorMath.sumLanes(lanes, 12 * L));
        sums[13] = tail(w, w3, x, x1, i, n, VectorMath.sumLanes(lanes, 13 * L));
        sums[14] = tail(w, w3, x, x2, i, n, VectorMath.sumLanes(lanes, 14 * L));
        sums[15] = tail(w, w3, x, x3, i, n, VectorMath.sumLanes(lanes, 15 * L));
    }

    /** Adds the scalar tail {@code [from, n)} to a lane sum. */
    private static float tail(float[] w, int w0, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }
}
