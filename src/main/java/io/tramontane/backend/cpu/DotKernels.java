package io.tramontane.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of FP32 weight rows (decoded into an L1-resident block by {@link RowBlockDecoder}) with
 * token activations: one row with one token, and four rows with four tokens (prefill: each loaded vector
 * feeds four FMAs).
 *
 * <p>The order, shared by every kernel here and in {@link FusedRows}, {@link Q8Rows} and {@link Q4Rows}: a row of n
 * features is read in chunks of L (the vector length); chunk j goes into lane-wise accumulator {@code j % 2} by FMA, in
 * order (two independent chains: enough to keep a streamed row ahead of the FMA latency); the two are added, the lanes
 * summed by the fixed butterfly of {@link VectorMath#sumLanes(float[], int)} ({@link LaneSums}), then the scalar tail
 * {@code [vectorEnd, n)} is added. The 4x4 tiles run as two halves of two rows by four tokens, each in a single pass
 * over the chunks with both chains in registers (sixteen accumulators). Every (row, token) sum is thus the same
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

    /** Rows at {@code w0 + r * n} with the tokens at {@code x0 + t * n} (r, t < 4): {@code sums[4 * r + t]}. */
    static void tile4x4(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] sums, float[] lanes) {
        half(w, w0, w0 + n, x, x0, n, vectorEnd, 0, lanes);
        half(w, w0 + 2 * n, w0 + 3 * n, x, x0, n, vectorEnd, 1, lanes);
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) sums[k] = tail(w, w0 + (k >> 2) * n, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
    }

    /**
     * Rows 2 half and 2 half + 1 (at {@code wa}, {@code wb}) with the four tokens at {@code x0 + t * n}, in one pass:
     * chunk j into chain j % 2, each weight widened once; chain c of accumulator 4 r + t into {@code lanes[(16 c + 8 half
     * + 4 r + t) L ..]}.
     */
    private static void half(float[] w, int wa, int wb, float[] x, int x0, int n, int vectorEnd, int half, float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector b00 = a00, b01 = a00, b10 = a00, b11 = a00, b20 = a00, b21 = a00, b30 = a00, b31 = a00;
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
        }
        if (pairs * 2 * L < vectorEnd) {  // a last, odd chunk: chain 0
            int k = pairs, i = k * 2 * L;
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
        }
        int o = 8 * half * L;  // accumulator 4 r + t of rows 2 half + r; chain 1 sixteen vectors further
        a00.intoArray(lanes, o);
        a01.intoArray(lanes, o + 16 * L);
        a10.intoArray(lanes, o + 1 * L);
        a11.intoArray(lanes, o + 17 * L);
        a20.intoArray(lanes, o + 2 * L);
        a21.intoArray(lanes, o + 18 * L);
        a30.intoArray(lanes, o + 3 * L);
        a31.intoArray(lanes, o + 19 * L);
        b00.intoArray(lanes, o + 4 * L);
        b01.intoArray(lanes, o + 20 * L);
        b10.intoArray(lanes, o + 5 * L);
        b11.intoArray(lanes, o + 21 * L);
        b20.intoArray(lanes, o + 6 * L);
        b21.intoArray(lanes, o + 22 * L);
        b30.intoArray(lanes, o + 7 * L);
        b31.intoArray(lanes, o + 23 * L);
    }

    /** Adds the scalar tail {@code [from, n)} to a lane sum. */
    private static float tail(float[] w, int w0, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }
}
