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
 * operations: one lane-wise FMA chain over the vector chunks in order, lanes summed in a fixed order,
 * then a scalar tail. So a request yields identical logits alone or in any batch, before or after the
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
    static float dot1(float[] w, int w0, float[] x, int x0, int n, int vectorEnd) {
        FloatVector a = FloatVector.zero(F);
        int i = 0;
        for (; i < vectorEnd; i += L) a = v(w, w0 + i).fma(v(x, x0 + i), a);
        float sum = VectorMath.sumLanes(a);
        for (; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }

    /** Rows at {@code w0 + r * n} (r < 4) with one token: {@code sums[r]}. */
    static void rows4(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] sums) {
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
        float s0 = VectorMath.sumLanes(a0), s1 = VectorMath.sumLanes(a1), s2 = VectorMath.sumLanes(a2), s3 = VectorMath.sumLanes(a3);
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
    static void tile4x4(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] sums) {
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
        sums[0] = tail(w, w0, x, x0, i, n, VectorMath.sumLanes(c00));
        sums[1] = tail(w, w0, x, x1, i, n, VectorMath.sumLanes(c01));
        sums[2] = tail(w, w0, x, x2, i, n, VectorMath.sumLanes(c02));
        sums[3] = tail(w, w0, x, x3, i, n, VectorMath.sumLanes(c03));
        sums[4] = tail(w, w1, x, x0, i, n, VectorMath.sumLanes(c10));
        sums[5] = tail(w, w1, x, x1, i, n, VectorMath.sumLanes(c11));
        sums[6] = tail(w, w1, x, x2, i, n, VectorMath.sumLanes(c12));
        sums[7] = tail(w, w1, x, x3, i, n, VectorMath.sumLanes(c13));
        sums[8] = tail(w, w2, x, x0, i, n, VectorMath.sumLanes(c20));
        sums[9] = tail(w, w2, x, x1, i, n, VectorMath.sumLanes(c21));
        sums[10] = tail(w, w2, x, x2, i, n, VectorMath.sumLanes(c22));
        sums[11] = tail(w, w2, x, x3, i, n, VectorMath.sumLanes(c23));
        sums[12] = tail(w, w3, x, x0, i, n, VectorMath.sumLanes(c30));
        sums[13] = tail(w, w3, x, x1, i, n, VectorMath.sumLanes(c31));
        sums[14] = tail(w, w3, x, x2, i, n, VectorMath.sumLanes(c32));
        sums[15] = tail(w, w3, x, x3, i, n, VectorMath.sumLanes(c33));
    }

    /** Adds the scalar tail {@code [from, n)}. Takes the lane sum, never a vector: a vector passed to a call
     *  that is not inlined would be boxed. */
    private static float tail(float[] w, int w0, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }
}
