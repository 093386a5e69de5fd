package io.tramontane.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Prefill tiles: six rows with four tokens, each weight widened in registers once and used four times, on a row group
 * and a token panel that {@link RowBlockDecoder} has copied into scratch (rows as BF16 from BF16 or e4m3 weights, as
 * FP32 from F32 or q8; tokens as FP32) in the split layout: a row's even chunks first, then its odd chunks, then its
 * scalar tail in place. The order of {@link DotKernels} sends chunk j into chain j % 2, so each chain is one contiguous
 * run of a split row: the tile runs one pass per chain with one accumulator per sum (24 accumulators, 4 tokens and 1
 * row in 29 of AVX-512's 32 registers, ten loads feeding 24 FMAs per chunk). This core sustains under one 512-bit load
 * per cycle, so loads per FMA set the pace: with both chains of every sum in registers the tile stopped at three rows by
 * four tokens, seven loads for twelve FMAs; passes over every other chunk of unsplit rows touched each line twice
 * (docs/cpu-kernels.md). One pass method per format, loads written out: a single loop
 * taking the format as a flag, its row widened by a helper, ran BF16 prefill at 34-38 tok/s against 164-180 (C2 boxed
 * the helper's vectors; 2026-11-26). The tile picks the pass; no vector crosses that call.
 */
final class StoredTiles {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private StoredTiles() {}

    /**
     * Six split rows at byte offsets {@code ba .. bf}, BF16 or F32, with the four split tokens at {@code x0 + t n}
     * (layout: {@link StoredTiles}): {@code sums[4 row + token]}.
     */
    static void tile6x4(boolean bf16Rows, MemorySegment w, long ba, long bb, long bc, long bd, long be, long bf, float[] x, int x0,
                        int n, int vectorEnd, float[] sums, float[] lanes) {
        int chunks = vectorEnd / L, evens = (chunks + 1) / 2;
        if (bf16Rows) {
            bf16Pass(w, ba, bb, bc, bd, be, bf, x, x0, n, 0, evens, lanes, 0);
            bf16Pass(w, ba, bb, bc, bd, be, bf, x, x0, n, evens, chunks - evens, lanes, 24 * L);
        } else {
            f32Pass(w, ba, bb, bc, bd, be, bf, x, x0, n, 0, evens, lanes, 0);
            f32Pass(w, ba, bb, bc, bd, be, bf, x, x0, n, evens, chunks - evens, lanes, 24 * L);
        }
        LaneSums.sums24(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 24; k++) {
            long row = row(k / 4, ba, bb, bc, bd, be, bf);
            int token = x0 + (k & 3) * n;
            sums[k] = bf16Rows ? FusedRows.bf16Tail(w, row, x, token, vectorEnd, n, sums[k])
                    : FusedRows.f32Tail(w, row, x, token, vectorEnd, n, sums[k]);
        }
    }

    /** The {@code i}th of a six-row tile's row offsets. */
    static long row(int i, long a, long b, long c, long d, long e, long f) {
        return switch (i) {
            case 0 -> a;
            case 1 -> b;
            case 2 -> c;
            case 3 -> d;
            case 4 -> e;
            default -> f;
        };
    }

    /**
     * Chunks {@code [first, first + count)} of six split BF16 rows with four split tokens, one accumulator per sum:
     * accumulator 4 row + token into {@code lanes[o + (4 row + token) L ..]}.
     */
    private static void bf16Pass(MemorySegment w, long ba, long bb, long bc, long bd, long be, long bf,
            float[] x, int x0, int n, int first, int count, float[] lanes, int o) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
        FloatVector e0 = a0, e1 = a0, e2 = a0, e3 = a0, f0 = a0, f1 = a0, f2 = a0, f3 = a0;
        for (int k = 0; k < count; k++) {  // offsets linear in k: no bounds checks
            int i = (first + k) * L;
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = ((IntVector) ShortVector.fromMemorySegment(S, w, ba + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a0 = r.fma(t0, a0); a1 = r.fma(t1, a1); a2 = r.fma(t2, a2); a3 = r.fma(t3, a3);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, bb + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            b0 = r.fma(t0, b0); b1 = r.fma(t1, b1); b2 = r.fma(t2, b2); b3 = r.fma(t3, b3);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, bc + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            c0 = r.fma(t0, c0); c1 = r.fma(t1, c1); c2 = r.fma(t2, c2); c3 = r.fma(t3, c3);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, bd + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            d0 = r.fma(t0, d0); d1 = r.fma(t1, d1); d2 = r.fma(t2, d2); d3 = r.fma(t3, d3);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, be + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            e0 = r.fma(t0, e0); e1 = r.fma(t1, e1); e2 = r.fma(t2, e2); e3 = r.fma(t3, e3);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, bf + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            f0 = r.fma(t0, f0); f1 = r.fma(t1, f1); f2 = r.fma(t2, f2); f3 = r.fma(t3, f3);
        }
        a0.intoArray(lanes, o); a1.intoArray(lanes, o + L); a2.intoArray(lanes, o + 2 * L); a3.intoArray(lanes, o + 3 * L);
        b0.intoArray(lanes, o + 4 * L); b1.intoArray(lanes, o + 5 * L); b2.intoArray(lanes, o + 6 * L); b3.intoArray(lanes, o + 7 * L);
        c0.intoArray(lanes, o + 8 * L); c1.intoArray(lanes, o + 9 * L); c2.intoArray(lanes, o + 10 * L); c3.intoArray(lanes, o + 11 * L);
        d0.intoArray(lanes, o + 12 * L); d1.intoArray(lanes, o + 13 * L); d2.intoArray(lanes, o + 14 * L); d3.intoArray(lanes, o + 15 * L);
        e0.intoArray(lanes, o + 16 * L); e1.intoArray(lanes, o + 17 * L); e2.intoArray(lanes, o + 18 * L); e3.intoArray(lanes, o + 19 * L);
        f0.intoArray(lanes, o + 20 * L); f1.intoArray(lanes, o + 21 * L); f2.intoArray(lanes, o + 22 * L); f3.intoArray(lanes, o + 23 * L);
    }


    /** As {@link #bf16Pass} on split F32 rows. */
    private static void f32Pass(MemorySegment w, long ba, long bb, long bc, long bd, long be, long bf,
            float[] x, int x0, int n, int first, int count, float[] lanes, int o) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
        FloatVector e0 = a0, e1 = a0, e2 = a0, e3 = a0, f0 = a0, f1 = a0, f2 = a0, f3 = a0;
        for (int k = 0; k < count; k++) {  // offsets linear in k: no bounds checks
            int i = (first + k) * L;
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = FloatVector.fromMemorySegment(F, w, ba + 4L * i, LE);
            a0 = r.fma(t0, a0); a1 = r.fma(t1, a1); a2 = r.fma(t2, a2); a3 = r.fma(t3, a3);
            r = FloatVector.fromMemorySegment(F, w, bb + 4L * i, LE);
            b0 = r.fma(t0, b0); b1 = r.fma(t1, b1); b2 = r.fma(t2, b2); b3 = r.fma(t3, b3);
            r = FloatVector.fromMemorySegment(F, w, bc + 4L * i, LE);
            c0 = r.fma(t0, c0); c1 = r.fma(t1, c1); c2 = r.fma(t2, c2); c3 = r.fma(t3, c3);
            r = FloatVector.fromMemorySegment(F, w, bd + 4L * i, LE);
            d0 = r.fma(t0, d0); d1 = r.fma(t1, d1); d2 = r.fma(t2, d2); d3 = r.fma(t3, d3);
            r = FloatVector.fromMemorySegment(F, w, be + 4L * i, LE);
            e0 = r.fma(t0, e0); e1 = r.fma(t1, e1); e2 = r.fma(t2, e2); e3 = r.fma(t3, e3);
            r = FloatVector.fromMemorySegment(F, w, bf + 4L * i, LE);
            f0 = r.fma(t0, f0); f1 = r.fma(t1, f1); f2 = r.fma(t2, f2); f3 = r.fma(t3, f3);
        }
        a0.intoArray(lanes, o); a1.intoArray(lanes, o + L); a2.intoArray(lanes, o + 2 * L); a3.intoArray(lanes, o + 3 * L);
        b0.intoArray(lanes, o + 4 * L); b1.intoArray(lanes, o + 5 * L); b2.intoArray(lanes, o + 6 * L); b3.intoArray(lanes, o + 7 * L);
        c0.intoArray(lanes, o + 8 * L); c1.intoArray(lanes, o + 9 * L); c2.intoArray(lanes, o + 10 * L); c3.intoArray(lanes, o + 11 * L);
        d0.intoArray(lanes, o + 12 * L); d1.intoArray(lanes, o + 13 * L); d2.intoArray(lanes, o + 14 * L); d3.intoArray(lanes, o + 15 * L);
        e0.intoArray(lanes, o + 16 * L); e1.intoArray(lanes, o + 17 * L); e2.intoArray(lanes, o + 18 * L); e3.intoArray(lanes, o + 19 * L);
        f0.intoArray(lanes, o + 20 * L); f1.intoArray(lanes, o + 21 * L); f2.intoArray(lanes, o + 22 * L); f3.intoArray(lanes, o + 23 * L);
    }
}
