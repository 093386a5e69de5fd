package io.tramontane.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of FP32 weight rows (decoded into an L1-resident block by {@link RowBlockDecoder}) with
 * token activations: one row with one token, and three rows with four tokens (prefill: each loaded vector
 * feeds three or four FMAs).
 *
 * <p>The order, shared by every kernel here and in {@link FusedRows}, {@link Q8Rows} and {@link Q4Rows}: a row of n
 * features is read in chunks of L (the vector length); chunk j goes into lane-wise accumulator {@code j % 2} by FMA, in
 * order (two independent chains: enough to keep a streamed row ahead of the FMA latency); the two are added, the lanes
 * summed by the fixed butterfly of {@link VectorMath#sumLanes(float[], int)} ({@link LaneSums}), then the scalar tail
 * {@code [vectorEnd, n)} is added. The stored formats' 4x4 tiles run as two halves of two rows by four tokens, the
 * block's 3x4 tile as one pass of three rows; each pass keeps both chains of its sums in registers. Every (row, token) sum is thus the same
 * sequence of operations whichever kernel computes it: a request yields identical logits alone or in any batch,
 * before or after the JIT compiles. (Four chains, the earlier order, made the tiles run four strided passes that
 * stored partials: a third to half of their speed, docs/cpu-kernels.md.)
 */
final class DotKernels {
    static final VectorSpecies<Float> F = VectorMath.SPECIES;
    private static final int L = F.length();
    /** Floats of the {@code lanes} scratch the kernels take: two chains of sixteen accumulators. */
    static final int LANES = 32 * L;

    private DotKernels() {}

    /** Vectors cover {@code [0, vectorEnd)} (a multiple of L), scalars the rest. */
    static float dot1(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int i = 0;
        for (; i + 4 * L <= vectorEnd; i += 4 * L) {
            a0 = FloatVector.fromArray(F, w, w0 + i).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = FloatVector.fromArray(F, w, w0 + i + L).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a0 = FloatVector.fromArray(F, w, w0 + i + 2 * L).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a0);
            a1 = FloatVector.fromArray(F, w, w0 + i + 3 * L).fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a1);
        }
        if (i < vectorEnd) {
            a0 = FloatVector.fromArray(F, w, w0 + i).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = FloatVector.fromArray(F, w, w0 + i).fma(FloatVector.fromArray(F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) a0 = FloatVector.fromArray(F, w, w0 + i).fma(FloatVector.fromArray(F, x, x0 + i), a0);
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        return tail(w, w0, x, x0, vectorEnd, n, LaneSums.sum1(lanes));
    }

    /**
     * Three rows at {@code w0 + r * n} with the four tokens at {@code x0 + t * n}, in one pass over the chunks with both
     * chains of all twelve sums in registers (24 accumulators, 4 tokens, 1 row: 29 of AVX-512's 32 registers):
     * {@code sums[4 * r + t]}. Seven loads feed twelve FMAs per chunk where two passes of two rows fed eight with six;
     * this machine sustains under one 512-bit load per cycle, so loads, not FMAs, set the pace (JMH: +25-30% in L1).
     */
    static void tile3x4(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] sums, float[] lanes) {
        int wa = w0, wb = wa + n, wc = wb + n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector b00 = a00, b01 = a00, b10 = a00, b11 = a00, b20 = a00, b21 = a00, b30 = a00, b31 = a00;
        FloatVector c00 = a00, c01 = a00, c10 = a00, c11 = a00, c20 = a00, c21 = a00, c30 = a00, c31 = a00;
        int pairs = vectorEnd / (2 * L);
        for (int k = 0; k < pairs; k++) {  // offsets linear in the loop counter, so C2 drops the bounds checks
            int i = k * 2 * L;
            {
                FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
                FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
                FloatVector r = FloatVector.fromArray(F, w, wa + i);
                a00 = r.fma(t0, a00);
                a10 = r.fma(t1, a10);
                a20 = r.fma(t2, a20);
                a30 = r.fma(t3, a30);
                r = FloatVector.fromArray(F, w, wb + i);
                b00 = r.fma(t0, b00);
                b10 = r.fma(t1, b10);
                b20 = r.fma(t2, b20);
                b30 = r.fma(t3, b30);
                r = FloatVector.fromArray(F, w, wc + i);
                c00 = r.fma(t0, c00);
                c10 = r.fma(t1, c10);
                c20 = r.fma(t2, c20);
                c30 = r.fma(t3, c30);
            }
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i + L), t1 = FloatVector.fromArray(F, x, x1 + i + L);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i + L), t3 = FloatVector.fromArray(F, x, x3 + i + L);
            FloatVector r = FloatVector.fromArray(F, w, wa + i + L);
            a01 = r.fma(t0, a01);
            a11 = r.fma(t1, a11);
            a21 = r.fma(t2, a21);
            a31 = r.fma(t3, a31);
            r = FloatVector.fromArray(F, w, wb + i + L);
            b01 = r.fma(t0, b01);
            b11 = r.fma(t1, b11);
            b21 = r.fma(t2, b21);
            b31 = r.fma(t3, b31);
            r = FloatVector.fromArray(F, w, wc + i + L);
            c01 = r.fma(t0, c01);
            c11 = r.fma(t1, c11);
            c21 = r.fma(t2, c21);
            c31 = r.fma(t3, c31);
        }
        if (pairs * 2 * L < vectorEnd) {  // a last, odd chunk: chain 0
            int i = pairs * 2 * L;
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = FloatVector.fromArray(F, w, wa + i);
            a00 = r.fma(t0, a00);
            a10 = r.fma(t1, a10);
            a20 = r.fma(t2, a20);
            a30 = r.fma(t3, a30);
            r = FloatVector.fromArray(F, w, wb + i);
            b00 = r.fma(t0, b00);
            b10 = r.fma(t1, b10);
            b20 = r.fma(t2, b20);
            b30 = r.fma(t3, b30);
            r = FloatVector.fromArray(F, w, wc + i);
            c00 = r.fma(t0, c00);
            c10 = r.fma(t1, c10);
            c20 = r.fma(t2, c20);
            c30 = r.fma(t3, c30);
        }
        // chains added, c0 + c1 (the first step of every lane sum), accumulator 4 r + t at lanes[(4 r + t) L]
        a00.add(a01).intoArray(lanes, 0);
        a10.add(a11).intoArray(lanes, L);
        a20.add(a21).intoArray(lanes, 2 * L);
        a30.add(a31).intoArray(lanes, 3 * L);
        b00.add(b01).intoArray(lanes, 4 * L);
        b10.add(b11).intoArray(lanes, 5 * L);
        b20.add(b21).intoArray(lanes, 6 * L);
        b30.add(b31).intoArray(lanes, 7 * L);
        c00.add(c01).intoArray(lanes, 8 * L);
        c10.add(c11).intoArray(lanes, 9 * L);
        c20.add(c21).intoArray(lanes, 10 * L);
        c30.add(c31).intoArray(lanes, 11 * L);
        LaneSums.sums12(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 12; k++) sums[k] = tail(w, w0 + (k >> 2) * n, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
    }

    /** Adds the scalar tail {@code [from, n)} to a lane sum. */
    private static float tail(float[] w, int w0, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }
}
