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
 * Prefill tiles on BF16 rows (stored, or e4m3 rows widened to BF16 per row group) and on stored F32 rows: three rows
 * with four tokens in one pass over the chunks, each weight widened in registers once and used four times, both chains
 * of all twelve sums in registers (24 accumulators, 4 tokens, 1 row: 29 of AVX-512's 32 registers). Seven loads feed
 * twelve FMAs per chunk where the 4x4 tile's two passes of two rows fed eight with six; this machine sustains under one
 * 512-bit load per cycle, so loads, not FMAs, set the pace. The order of each (row, token) sum is that of
 * {@link DotKernels}: these give the bits of every other kernel. One method per format, loads written out: a single tile
 * taking the format as a flag, its row widened by a helper, ran BF16 prefill at 34-38 tok/s against 164-180 (C2 boxed
 * the helper's vectors; 2026-11-26).
 */
final class StoredTiles {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private StoredTiles() {}

    /** Three BF16 rows at byte offsets {@code ba, bb, bc} with four tokens: {@code sums[4 * row + token]} (see {@link StoredTiles}). */
    static void bf16Tile3x4(MemorySegment w, long ba, long bb, long bc, float[] x, int x0, int n, int vectorEnd, float[] sums,
                             float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector b00 = a00, b01 = a00, b10 = a00, b11 = a00, b20 = a00, b21 = a00, b30 = a00, b31 = a00;
        FloatVector c00 = a00, c01 = a00, c10 = a00, c11 = a00, c20 = a00, c21 = a00, c30 = a00, c31 = a00;
        int pairs = vectorEnd / (2 * L);
        for (int k = 0; k < pairs; k++) {  // offsets linear in the loop counter, so C2 drops the bounds checks
            int i = k * 2 * L;
            {
                FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
                FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
                FloatVector r = ((IntVector) ShortVector.fromMemorySegment(S, w, ba + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                a00 = r.fma(t0, a00);
                a10 = r.fma(t1, a10);
                a20 = r.fma(t2, a20);
                a30 = r.fma(t3, a30);
                r = ((IntVector) ShortVector.fromMemorySegment(S, w, bb + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                b00 = r.fma(t0, b00);
                b10 = r.fma(t1, b10);
                b20 = r.fma(t2, b20);
                b30 = r.fma(t3, b30);
                r = ((IntVector) ShortVector.fromMemorySegment(S, w, bc + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                c00 = r.fma(t0, c00);
                c10 = r.fma(t1, c10);
                c20 = r.fma(t2, c20);
                c30 = r.fma(t3, c30);
            }
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i + L), t1 = FloatVector.fromArray(F, x, x1 + i + L);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i + L), t3 = FloatVector.fromArray(F, x, x3 + i + L);
            FloatVector r = ((IntVector) ShortVector.fromMemorySegment(S, w, ba + 2L * (i + L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a01 = r.fma(t0, a01);
            a11 = r.fma(t1, a11);
            a21 = r.fma(t2, a21);
            a31 = r.fma(t3, a31);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, bb + 2L * (i + L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            b01 = r.fma(t0, b01);
            b11 = r.fma(t1, b11);
            b21 = r.fma(t2, b21);
            b31 = r.fma(t3, b31);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, bc + 2L * (i + L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            c01 = r.fma(t0, c01);
            c11 = r.fma(t1, c11);
            c21 = r.fma(t2, c21);
            c31 = r.fma(t3, c31);
        }
        if (pairs * 2 * L < vectorEnd) {  // a last, odd chunk: chain 0
            int i = pairs * 2 * L;
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = ((IntVector) ShortVector.fromMemorySegment(S, w, ba + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a00 = r.fma(t0, a00);
            a10 = r.fma(t1, a10);
            a20 = r.fma(t2, a20);
            a30 = r.fma(t3, a30);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, bb + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            b00 = r.fma(t0, b00);
            b10 = r.fma(t1, b10);
            b20 = r.fma(t2, b20);
            b30 = r.fma(t3, b30);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, bc + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
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
        for (int k = 0; vectorEnd < n && k < 12; k++) {
            sums[k] = FusedRows.bf16Tail(w, k < 4 ? ba : k < 8 ? bb : bc, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /** Three F32 rows at byte offsets {@code ba, bb, bc} with four tokens: {@code sums[4 * row + token]} (see {@link StoredTiles}). */
    static void f32Tile3x4(MemorySegment w, long ba, long bb, long bc, float[] x, int x0, int n, int vectorEnd, float[] sums,
                             float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector b00 = a00, b01 = a00, b10 = a00, b11 = a00, b20 = a00, b21 = a00, b30 = a00, b31 = a00;
        FloatVector c00 = a00, c01 = a00, c10 = a00, c11 = a00, c20 = a00, c21 = a00, c30 = a00, c31 = a00;
        int pairs = vectorEnd / (2 * L);
        for (int k = 0; k < pairs; k++) {  // offsets linear in the loop counter, so C2 drops the bounds checks
            int i = k * 2 * L;
            {
                FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
                FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
                FloatVector r = FloatVector.fromMemorySegment(F, w, ba + 4L * (i), LE);
                a00 = r.fma(t0, a00);
                a10 = r.fma(t1, a10);
                a20 = r.fma(t2, a20);
                a30 = r.fma(t3, a30);
                r = FloatVector.fromMemorySegment(F, w, bb + 4L * (i), LE);
                b00 = r.fma(t0, b00);
                b10 = r.fma(t1, b10);
                b20 = r.fma(t2, b20);
                b30 = r.fma(t3, b30);
                r = FloatVector.fromMemorySegment(F, w, bc + 4L * (i), LE);
                c00 = r.fma(t0, c00);
                c10 = r.fma(t1, c10);
                c20 = r.fma(t2, c20);
                c30 = r.fma(t3, c30);
            }
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i + L), t1 = FloatVector.fromArray(F, x, x1 + i + L);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i + L), t3 = FloatVector.fromArray(F, x, x3 + i + L);
            FloatVector r = FloatVector.fromMemorySegment(F, w, ba + 4L * (i + L), LE);
            a01 = r.fma(t0, a01);
            a11 = r.fma(t1, a11);
            a21 = r.fma(t2, a21);
            a31 = r.fma(t3, a31);
            r = FloatVector.fromMemorySegment(F, w, bb + 4L * (i + L), LE);
            b01 = r.fma(t0, b01);
            b11 = r.fma(t1, b11);
            b21 = r.fma(t2, b21);
            b31 = r.fma(t3, b31);
            r = FloatVector.fromMemorySegment(F, w, bc + 4L * (i + L), LE);
            c01 = r.fma(t0, c01);
            c11 = r.fma(t1, c11);
            c21 = r.fma(t2, c21);
            c31 = r.fma(t3, c31);
        }
        if (pairs * 2 * L < vectorEnd) {  // a last, odd chunk: chain 0
            int i = pairs * 2 * L;
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = FloatVector.fromMemorySegment(F, w, ba + 4L * (i), LE);
            a00 = r.fma(t0, a00);
            a10 = r.fma(t1, a10);
            a20 = r.fma(t2, a20);
            a30 = r.fma(t3, a30);
            r = FloatVector.fromMemorySegment(F, w, bb + 4L * (i), LE);
            b00 = r.fma(t0, b00);
            b10 = r.fma(t1, b10);
            b20 = r.fma(t2, b20);
            b30 = r.fma(t3, b30);
            r = FloatVector.fromMemorySegment(F, w, bc + 4L * (i), LE);
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
        for (int k = 0; vectorEnd < n && k < 12; k++) {
            sums[k] = FusedRows.f32Tail(w, k < 4 ? ba : k < 8 ? bb : bc, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }
}
