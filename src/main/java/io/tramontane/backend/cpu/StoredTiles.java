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
 * Prefill and batched-decode tiles, each weight widened in registers once and used four times. F32 and q8 rows (as
 * FP32) and e4m3 rows (widened to BF16) are read from a row group that {@link RowBlockDecoder} has copied into scratch,
 * with the tokens, in the split layout: a row's even chunks first, then its odd chunks, then its scalar tail in place.
 * The order of {@link DotKernels} sends chunk j into chain j % 2, so each chain is one contiguous run of a split row:
 * a tile runs one pass per chain with one accumulator per sum. F32 rows go six by four tokens (24 accumulators, 4
 * tokens and 1 row in 29 of AVX-512's 32 registers, ten loads feeding 24 FMAs per chunk). BF16 tiles read
 * <em>words</em>: vectors of 32-bit words whose low and high halves are two chunks of one chain, so one load and one
 * shift or mask per chunk widen them, against a widening load and a shift per chunk otherwise (on a core with two FMA
 * ports that also run those conversions, as this Xeon's, the six-row tile's conversions held it at two thirds of the FMA
 * peak). Stored BF16 rows are such words as they lie (the BF16 order of {@link DotKernels} is built on them), e4m3 rows
 * are widened into them (the <em>paired</em> split layout: within each chain, word l of a pair holds the first chunk's
 * element l in its low half, the second's in its high half). A pass holds the tokens of both chunks, so BF16 tiles
 * take five rows (20 accumulators, 8 tokens, a word and a row: 30 registers). One pass method per format, loads written
 * out: a single loop taking the format as a flag, its row widened by a helper, ran BF16 prefill at 34-38 tok/s against
 * 164-180 (C2 boxed the helper's vectors; 2026-11-26). The tile picks the pass; no vector crosses that call. Its
 * accumulators go through {@code lanes} from {@code lanesStart} to {@link LaneSums#tileSums}, the caller's 64-byte
 * boundary ({@link ArrayAlignment}), as the tokens start at one: a 64-byte vector across two cache lines costs two L1
 * accesses.
 */
final class StoredTiles {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int HIGH_HALVES = 0xFFFF0000;

    private StoredTiles() {}

    /**
     * Five rows of BF16 words, {@code row} bytes apart from byte offset {@code b0}, with the four tokens at
     * {@code x0 + t n} in the matching layout: {@code sums[4 row + token]}. Chain 0 is the chunks {@code [0, chain1)},
     * chain 1 the rest up to {@code vectorEnd}: {@link #wordChain1} for stored BF16 rows (tokens in the word layout),
     * {@link #pairedChain1} for e4m3 rows widened into the paired split layout (tokens split).
     */
    static void bf16Tile5x4(MemorySegment w, long b0, long row, float[] x, int x0, int n, int vectorEnd, int chain1,
                            float[] sums, float[] lanes, int lanesStart) {
        bf16Pass(w, b0, row, x, x0, n, 0, chain1, lanes, lanesStart);
        bf16Pass(w, b0, row, x, x0, n, chain1, vectorEnd / L - chain1, lanes, lanesStart + 24 * L);
        LaneSums.tileSums(lanes, lanesStart, 20, sums);
        for (int k = 0; vectorEnd < n && k < 20; k++) {
            sums[k] = FusedRows.bf16Tail(w, b0 + k / 4 * row, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /** Where chain 1 starts, in chunks, in a stored BF16 row: after the first half of its words, rounded up. */
    static int wordChain1(int vectorEnd) {
        return 2 * ((vectorEnd / (2 * L) + 1) / 2);
    }

    /** Where chain 1 starts, in chunks, in a row in the (paired) split layout: after the even chunks. */
    static int pairedChain1(int vectorEnd) {
        return (vectorEnd / L + 1) / 2;
    }

    /**
     * Six F32 rows at byte offsets {@code ba .. bf} in the split layout, with the four split tokens at {@code x0 + t n}
     * (layout: {@link StoredTiles}): {@code sums[4 row + token]}.
     */
    static void f32Tile6x4(MemorySegment w, long ba, long bb, long bc, long bd, long be, long bf, float[] x, int x0,
                           int n, int vectorEnd, float[] sums, float[] lanes, int lanesStart) {
        int chunks = vectorEnd / L, evens = (chunks + 1) / 2;
        f32Pass(w, ba, bb, bc, bd, be, bf, x, x0, n, 0, evens, lanes, lanesStart);
        f32Pass(w, ba, bb, bc, bd, be, bf, x, x0, n, evens, chunks - evens, lanes, lanesStart + 24 * L);
        LaneSums.tileSums(lanes, lanesStart, 24, sums);
        for (int k = 0; vectorEnd < n && k < 24; k++) {
            sums[k] = FusedRows.f32Tail(w, row(k / 4, ba, bb, bc, bd, be, bf), x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /** The {@code i}th of a tile's row offsets. */
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
     * Chunks {@code [first, first + count)} of five rows of BF16 words with four tokens in the matching layout, one
     * accumulator per sum: accumulator 4 row + token into {@code lanes[o + (4 row + token) L ..]}. A pair of chunks is
     * one load; its low halves shifted up and its high halves masked are the two chunks' floats, one operation each
     * on the FMA ports, where a chunk loaded on its own takes a widening and a shift.
     */
    private static void bf16Pass(MemorySegment w, long b0, long row, float[] x, int x0, int n, int first, int count,
                                 float[] lanes, int o) {
        int pairs = count / 2;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0s = a0, b1 = a0, b2 = a0, b3 = a0;
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
        FloatVector e0 = a0, e1 = a0, e2 = a0, e3 = a0;
        for (int k = 0; k < pairs; k++) {  // a pair's word lies where its two chunks would: byte 2 i of the row
            int i = (first + 2 * k) * L, j = i + L;
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x0 + n + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x0 + 2 * n + i), t3 = FloatVector.fromArray(F, x, x0 + 3 * n + i);
            FloatVector u0 = FloatVector.fromArray(F, x, x0 + j), u1 = FloatVector.fromArray(F, x, x0 + n + j);
            FloatVector u2 = FloatVector.fromArray(F, x, x0 + 2 * n + j), u3 = FloatVector.fromArray(F, x, x0 + 3 * n + j);
            IntVector v = IntVector.fromMemorySegment(I, w, b0 + 2L * i, LE);
            FloatVector r = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0));
            a0 = r.fma(t0, a0); a1 = r.fma(t1, a1); a2 = r.fma(t2, a2); a3 = r.fma(t3, a3);
            r = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0));
            a0 = r.fma(u0, a0); a1 = r.fma(u1, a1); a2 = r.fma(u2, a2); a3 = r.fma(u3, a3);
            v = IntVector.fromMemorySegment(I, w, b0 + row + 2L * i, LE);
            r = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0));
            b0s = r.fma(t0, b0s); b1 = r.fma(t1, b1); b2 = r.fma(t2, b2); b3 = r.fma(t3, b3);
            r = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0));
            b0s = r.fma(u0, b0s); b1 = r.fma(u1, b1); b2 = r.fma(u2, b2); b3 = r.fma(u3, b3);
            v = IntVector.fromMemorySegment(I, w, b0 + 2 * row + 2L * i, LE);
            r = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0));
            c0 = r.fma(t0, c0); c1 = r.fma(t1, c1); c2 = r.fma(t2, c2); c3 = r.fma(t3, c3);
            r = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0));
            c0 = r.fma(u0, c0); c1 = r.fma(u1, c1); c2 = r.fma(u2, c2); c3 = r.fma(u3, c3);
            v = IntVector.fromMemorySegment(I, w, b0 + 3 * row + 2L * i, LE);
            r = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0));
            d0 = r.fma(t0, d0); d1 = r.fma(t1, d1); d2 = r.fma(t2, d2); d3 = r.fma(t3, d3);
            r = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0));
            d0 = r.fma(u0, d0); d1 = r.fma(u1, d1); d2 = r.fma(u2, d2); d3 = r.fma(u3, d3);
            v = IntVector.fromMemorySegment(I, w, b0 + 4 * row + 2L * i, LE);
            r = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0));
            e0 = r.fma(t0, e0); e1 = r.fma(t1, e1); e2 = r.fma(t2, e2); e3 = r.fma(t3, e3);
            r = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0));
            e0 = r.fma(u0, e0); e1 = r.fma(u1, e1); e2 = r.fma(u2, e2); e3 = r.fma(u3, e3);
        }
        a0.intoArray(lanes, o); a1.intoArray(lanes, o + L); a2.intoArray(lanes, o + 2 * L); a3.intoArray(lanes, o + 3 * L);
        b0s.intoArray(lanes, o + 4 * L); b1.intoArray(lanes, o + 5 * L); b2.intoArray(lanes, o + 6 * L); b3.intoArray(lanes, o + 7 * L);
        c0.intoArray(lanes, o + 8 * L); c1.intoArray(lanes, o + 9 * L); c2.intoArray(lanes, o + 10 * L); c3.intoArray(lanes, o + 11 * L);
        d0.intoArray(lanes, o + 12 * L); d1.intoArray(lanes, o + 13 * L); d2.intoArray(lanes, o + 14 * L); d3.intoArray(lanes, o + 15 * L);
        e0.intoArray(lanes, o + 16 * L); e1.intoArray(lanes, o + 17 * L); e2.intoArray(lanes, o + 18 * L); e3.intoArray(lanes, o + 19 * L);
        if (count % 2 != 0) bf16LastChunk(w, b0, row, x, x0, n, first + count - 1, lanes, o);
    }

    /**
     * Adds chunk {@code chunk} of the five rows, read on its own (the last of a chain with an odd count of chunks), to
     * the accumulators {@link #bf16Pass} stored at {@code lanes[o ..]}. Apart from the pass: merged into the loop's
     * accumulators after it, this chunk left C2 boxing the last loaded word of every iteration once the pass had seen
     * both stored rows and e4m3 rows widened in scratch (4 lanes, {@code -XX:-TieredCompilation -Xbatch};
     * docs/cpu-kernels.md).
     */
    private static void bf16LastChunk(MemorySegment w, long b0, long row, float[] x, int x0, int n, int chunk, float[] lanes,
                                      int o) {
        int i = chunk * L;
        FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x0 + n + i);
        FloatVector t2 = FloatVector.fromArray(F, x, x0 + 2 * n + i), t3 = FloatVector.fromArray(F, x, x0 + 3 * n + i);
        for (int k = 0; k < 5; k++) {  // row k: accumulators 4k .. 4k + 3
            FloatVector r = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, w, b0 + k * row + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0));
            int a = o + 4 * k * L;
            r.fma(t0, FloatVector.fromArray(F, lanes, a)).intoArray(lanes, a);
            r.fma(t1, FloatVector.fromArray(F, lanes, a + L)).intoArray(lanes, a + L);
            r.fma(t2, FloatVector.fromArray(F, lanes, a + 2 * L)).intoArray(lanes, a + 2 * L);
            r.fma(t3, FloatVector.fromArray(F, lanes, a + 3 * L)).intoArray(lanes, a + 3 * L);
        }
    }

    /**
     * Chunks {@code [first, first + count)} of six split F32 rows with four split tokens, one accumulator per sum:
     * accumulator 4 row + token into {@code lanes[o + (4 row + token) L ..]}.
     */
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
