package io.tramontane.backend.cpu;

import io.tramontane.weights.Floats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode-shaped dot products (one or two rows with one token, six e4m3 rows with four tokens) straight from the stored
 * bytes, widening narrow weights in registers. One method per format so each loop compiles without a
 * per-vector dispatch; loads are written out in Vector API calls (a helper that C2 declines to inline, as it
 * does once a big method's node budget is spent, would box its vectors). Each (row, token) sum is the
 * order of {@link DotKernels}, so these give the bits of the prefill tiles ({@link StoredTiles}) on the same rows.
 */
final class FusedRows {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /** Sign (replicated by the widening) and the seven magnitude bits of an e4m3 byte shifted left by 20. */
    static final int E4M3_BITS = 0x87F00000;
    /** Rebases the moved exponent from bias 7 to 127 (exact). */
    static final float E4M3_REBASE = 0x1p120f;
    private static final int HIGH_HALVES = 0xFFFF0000;

    private FusedRows() {}

    /**
     * The BF16 row at byte offset {@code b} with the token at {@code x0} in the word layout, columns {@code [0, vectorEnd)}
     * (order: see {@link DotKernels}): its two chains, the first and the second half of its words, into {@code lanes} at
     * {@code chain0} and {@code chain1}, for {@link LaneSums}; {@link #bf16Tail} adds the rest. A word's low halves
     * shifted up and its high halves masked are its two chunks' floats: one operation a chunk.
     */
    static void bf16Chains(MemorySegment w, long b, float[] x, int x0, int vectorEnd, float[] lanes, int chain0, int chain1) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int words = vectorEnd / (2 * L), half = (words + 1) / 2;
        for (int k = 0; k < half; k++) {
            IntVector v = IntVector.fromMemorySegment(I, w, b + 4L * L * k, LE);
            a0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, x0 + 2 * L * k), a0);
            a0 = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, x0 + 2 * L * k + L), a0);
        }
        for (int k = half; k < words; k++) {
            IntVector v = IntVector.fromMemorySegment(I, w, b + 4L * L * k, LE);
            a1 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, x0 + 2 * L * k), a1);
            a1 = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, x0 + 2 * L * k + L), a1);
        }
        a0.intoArray(lanes, chain0);
        a1.intoArray(lanes, chain1);
    }

    /**
     * The BF16 rows at byte offsets {@code b} and {@code c} with the token at {@code x0}, as {@link #bf16Chains} gives each
     * alone (same bits): the first row's chains into {@code lanes} at {@code chain} and {@code chain + 16 L}, the second's
     * at {@code chain + L} and {@code chain + 17 L}, as {@link LaneSums#sums16} takes sixteen rows. Two rows at once keep
     * two memory streams in flight, each row's chains one after the other, which some machines stream faster than one row's
     * two halves ({@link RowPairs}).
     */
    static void bf16PairChains(MemorySegment w, long b, long c, float[] x, int x0, int vectorEnd, float[] lanes, int chain) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        int words = vectorEnd / (2 * L), half = (words + 1) / 2;
        for (int k = 0; k < half; k++) {  // chain 0 of both rows, then chain 1: two streams at a time
            FloatVector lo = FloatVector.fromArray(F, x, x0 + 2 * L * k), hi = FloatVector.fromArray(F, x, x0 + 2 * L * k + L);
            IntVector v = IntVector.fromMemorySegment(I, w, b + 4L * L * k, LE);
            a0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).fma(lo, a0);
            a0 = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0)).fma(hi, a0);
            v = IntVector.fromMemorySegment(I, w, c + 4L * L * k, LE);
            b0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).fma(lo, b0);
            b0 = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0)).fma(hi, b0);
        }
        for (int k = half; k < words; k++) {  // written out: one loop over both chains decoded 0-12% slower in four of five pairs
            FloatVector lo = FloatVector.fromArray(F, x, x0 + 2 * L * k), hi = FloatVector.fromArray(F, x, x0 + 2 * L * k + L);
            IntVector v = IntVector.fromMemorySegment(I, w, b + 4L * L * k, LE);
            a1 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).fma(lo, a1);
            a1 = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0)).fma(hi, a1);
            v = IntVector.fromMemorySegment(I, w, c + 4L * L * k, LE);
            b1 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).fma(lo, b1);
            b1 = ((FloatVector) v.and(HIGH_HALVES).reinterpretShape(F, 0)).fma(hi, b1);
        }
        a0.intoArray(lanes, chain);
        b0.intoArray(lanes, chain + L);
        a1.intoArray(lanes, chain + 16 * L);
        b1.intoArray(lanes, chain + 17 * L);
    }

    /**
     * The e4m3 row at byte offset {@code b} with the token at {@code x0}, columns {@code [0, vectorEnd)} (order: see
     * {@link DotKernels}): its two chains into {@code lanes} at {@code chain0} and {@code chain1}, for {@link LaneSums};
     * {@link #e4m3Tail} adds the rest.
     */
    static void e4m3Chains(MemorySegment w, long b, float[] x, int x0, int vectorEnd, float[] lanes, int chain0, int chain1) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int i = 0;
        for (; i + 4 * L <= vectorEnd; i += 4 * L) {
            a0 = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE)
                    .fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i + L), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE)
                    .fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a0 = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i + 2 * L), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE)
                    .fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a0);
            a1 = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i + 3 * L), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE)
                    .fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a1);
        }
        if (i < vectorEnd) {
            a0 = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE)
                    .fma(FloatVector.fromArray(F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE)
                    .fma(FloatVector.fromArray(F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) a0 = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE)
                    .fma(FloatVector.fromArray(F, x, x0 + i), a0);
        a0.intoArray(lanes, chain0);
        a1.intoArray(lanes, chain1);
    }

    /**
     * Six stored e4m3 rows at byte offsets {@code ba .. bf} with the four tokens at {@code x0 + t n}:
     * {@code sums[4 row + token]}. The tile picks the pass; no vector crosses that call.
     */
    static void e4m3Tile6x4(MemorySegment w, long ba, long bb, long bc, long bd, long be, long bf, float[] x, int x0,
                            int n, int vectorEnd, float[] sums, float[] lanes, int lanesStart) {
        e4m3Pass(w, ba, bb, bc, bd, be, bf, x, x0, n, 0, vectorEnd / L, lanes, lanesStart);
        e4m3Pass(w, ba, bb, bc, bd, be, bf, x, x0, n, 1, vectorEnd / L, lanes, lanesStart + 24 * L);
        LaneSums.tileSums(lanes, lanesStart, 24, sums);
        for (int k = 0; vectorEnd < n && k < 24; k++) {
            sums[k] = e4m3Tail(w, StoredTiles.row(k / 4, ba, bb, bc, bd, be, bf), x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /**
     * Chain {@code chain} (the chunks j = chain mod 2 of the row's {@code chunks}) of six stored e4m3 rows with four
     * tokens, each weight widened once, one accumulator per sum: accumulator 4 row + token into
     * {@code lanes[o + (4 row + token) L ..]}.
     */
    private static void e4m3Pass(MemorySegment w, long ba, long bb, long bc, long bd, long be, long bf,
            float[] x, int x0, int n, int chain, int chunks, float[] lanes, int o) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
        FloatVector e0 = a0, e1 = a0, e2 = a0, e3 = a0, f0 = a0, f1 = a0, f2 = a0, f3 = a0;
        for (int k = 0, count = (chunks + 1 - chain) / 2; k < count; k++) {  // offsets linear in k: no bounds checks
            int i = (2 * k + chain) * L;
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, ba + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE);
            a0 = r.fma(t0, a0); a1 = r.fma(t1, a1); a2 = r.fma(t2, a2); a3 = r.fma(t3, a3);
            r = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, bb + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE);
            b0 = r.fma(t0, b0); b1 = r.fma(t1, b1); b2 = r.fma(t2, b2); b3 = r.fma(t3, b3);
            r = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, bc + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE);
            c0 = r.fma(t0, c0); c1 = r.fma(t1, c1); c2 = r.fma(t2, c2); c3 = r.fma(t3, c3);
            r = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, bd + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE);
            d0 = r.fma(t0, d0); d1 = r.fma(t1, d1); d2 = r.fma(t2, d2); d3 = r.fma(t3, d3);
            r = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, be + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE);
            e0 = r.fma(t0, e0); e1 = r.fma(t1, e1); e2 = r.fma(t2, e2); e3 = r.fma(t3, e3);
            r = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, bf + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretShape(F, 0)).mul(E4M3_REBASE);
            f0 = r.fma(t0, f0); f1 = r.fma(t1, f1); f2 = r.fma(t2, f2); f3 = r.fma(t3, f3);
        }
        a0.intoArray(lanes, o); a1.intoArray(lanes, o + L); a2.intoArray(lanes, o + 2 * L); a3.intoArray(lanes, o + 3 * L);
        b0.intoArray(lanes, o + 4 * L); b1.intoArray(lanes, o + 5 * L); b2.intoArray(lanes, o + 6 * L); b3.intoArray(lanes, o + 7 * L);
        c0.intoArray(lanes, o + 8 * L); c1.intoArray(lanes, o + 9 * L); c2.intoArray(lanes, o + 10 * L); c3.intoArray(lanes, o + 11 * L);
        d0.intoArray(lanes, o + 12 * L); d1.intoArray(lanes, o + 13 * L); d2.intoArray(lanes, o + 14 * L); d3.intoArray(lanes, o + 15 * L);
        e0.intoArray(lanes, o + 16 * L); e1.intoArray(lanes, o + 17 * L); e2.intoArray(lanes, o + 18 * L); e3.intoArray(lanes, o + 19 * L);
        f0.intoArray(lanes, o + 20 * L); f1.intoArray(lanes, o + 21 * L); f2.intoArray(lanes, o + 22 * L); f3.intoArray(lanes, o + 23 * L);
    }


    /**
     * The F32 row at byte offset {@code b} with the token at {@code x0}, columns {@code [0, vectorEnd)} (order: see
     * {@link DotKernels}): its two chains into {@code lanes} at {@code chain0} and {@code chain1}, for {@link LaneSums};
     * {@link #f32Tail} adds the rest.
     */
    static void f32Chains(MemorySegment w, long b, float[] x, int x0, int vectorEnd, float[] lanes, int chain0, int chain1) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int i = 0;
        for (; i + 4 * L <= vectorEnd; i += 4 * L) {
            a0 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = FloatVector.fromMemorySegment(F, w, b + 4L * (i + L), LE).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a0 = FloatVector.fromMemorySegment(F, w, b + 4L * (i + 2 * L), LE).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a0);
            a1 = FloatVector.fromMemorySegment(F, w, b + 4L * (i + 3 * L), LE).fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a1);
        }
        if (i < vectorEnd) {
            a0 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(FloatVector.fromArray(F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) a0 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(FloatVector.fromArray(F, x, x0 + i), a0);
        a0.intoArray(lanes, chain0);
        a1.intoArray(lanes, chain1);
    }

    /**
     * The F32 rows at byte offsets {@code b} and {@code c} with the token at {@code x0}, as {@link #f32Chains} gives each
     * alone (same bits): the first row's chains into {@code lanes} at {@code chain} and {@code chain + 16 L}, the second's
     * at {@code chain + L} and {@code chain + 17 L}, as {@link LaneSums#sums16} takes sixteen rows. Two rows at once keep
     * four FMA chains and two memory streams in flight, which some machines stream faster than one ({@link RowPairs}).
     */
    static void f32PairChains(MemorySegment w, long b, long c, float[] x, int x0, int vectorEnd, float[] lanes, int chain) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        int i = 0;
        for (; i + 2 * L <= vectorEnd; i += 2 * L) {
            FloatVector x0v = FloatVector.fromArray(F, x, x0 + i), x1v = FloatVector.fromArray(F, x, x0 + i + L);
            a0 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(x0v, a0);
            b0 = FloatVector.fromMemorySegment(F, w, c + 4L * (i), LE).fma(x0v, b0);
            a1 = FloatVector.fromMemorySegment(F, w, b + 4L * (i + L), LE).fma(x1v, a1);
            b1 = FloatVector.fromMemorySegment(F, w, c + 4L * (i + L), LE).fma(x1v, b1);
        }
        if (i < vectorEnd) {
            FloatVector x0v = FloatVector.fromArray(F, x, x0 + i);
            a0 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(x0v, a0);
            b0 = FloatVector.fromMemorySegment(F, w, c + 4L * (i), LE).fma(x0v, b0);
        }
        a0.intoArray(lanes, chain);
        b0.intoArray(lanes, chain + L);
        a1.intoArray(lanes, chain + 16 * L);
        b1.intoArray(lanes, chain + 17 * L);
    }

    static float bf16Tail(MemorySegment w, long base, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += Floats.bf16ToFloat(w.get(I16, base + 2L * i)) * x[x0 + i];
        return sum;
    }

    static float e4m3Tail(MemorySegment w, long base, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += Floats.e4m3ToFloat(w.get(ValueLayout.JAVA_BYTE, base + i)) * x[x0 + i];
        return sum;
    }

    static float f32Tail(MemorySegment w, long base, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w.get(F32, base + 4L * i) * x[x0 + i];
        return sum;
    }
}
