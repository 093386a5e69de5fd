package io.tramontane.backend.cpu;

import io.tramontane.weights.Floats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode-shaped dot products (one row with one token, four rows with four tokens) straight from the stored
 * bytes, widening narrow weights in registers. One method per format so each loop compiles without a
 * per-vector dispatch; loads are written out in Vector API calls (a helper that C2 declines to inline, as it
 * does once a big method's node budget is spent, would box its vectors). Each (row, token) sum is the
 * order of {@link DotKernels}, so these give the bits of the prefill tiles ({@link StoredTiles}) on the same rows.
 */
final class FusedRows {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /** Sign (replicated by the widening) and the seven magnitude bits of an e4m3 byte shifted left by 20. */
    static final int E4M3_BITS = 0x87F00000;
    /** Rebases the moved exponent from bias 7 to 127 (exact). */
    static final float E4M3_REBASE = 0x1p120f;

    private FusedRows() {}

    /**
     * The BF16 row at byte offset {@code b} with the token at {@code x0}, columns {@code [0, vectorEnd)} (order: see
     * {@link DotKernels}): its two chains into {@code lanes} at {@code chain0} and {@code chain1}, for {@link LaneSums};
     * {@link #bf16Tail} adds the rest.
     */
    static void bf16Chains(MemorySegment w, long b, float[] x, int x0, int vectorEnd, float[] lanes, int chain0, int chain1) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int i = 0;
        for (; i + 4 * L <= vectorEnd; i += 4 * L) {
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i + L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i + 2 * L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i + 3 * L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a1);
        }
        if (i < vectorEnd) {
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) a0 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i), a0);
        a0.intoArray(lanes, chain0);
        a1.intoArray(lanes, chain1);
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
            a0 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i + L), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a0 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i + 2 * L), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a0);
            a1 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i + 3 * L), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a1);
        }
        if (i < vectorEnd) {
            a0 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) a0 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i), a0);
        a0.intoArray(lanes, chain0);
        a1.intoArray(lanes, chain1);
    }

    /** Four e4m3 rows with four tokens at {@code x0 + t * n}: {@code sums[4 * row + token]}, each weight widened once. */
    static void e4m3Tile4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           float[] sums, float[] lanes) {
        e4m3Half(w, b0, b1, x, x0, n, vectorEnd, 0, lanes);
        e4m3Half(w, b2, b3, x, x0, n, vectorEnd, 1, lanes);
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) {
            long row = k < 4 ? b0 : k < 8 ? b1 : k < 12 ? b2 : b3;
            sums[k] = e4m3Tail(w, row, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /**
     * Rows 2 half and 2 half + 1 (at {@code wa}, {@code wb}) with the four tokens at {@code x0 + t * n}, in one pass:
     * chunk j into chain j % 2, each weight widened once; chain c of accumulator 4 r + t into {@code lanes[(16 c + 8 half
     * + 4 r + t) L ..]}.
     */
    private static void e4m3Half(MemorySegment w, long ba, long bb, float[] x, int x0, int n, int vectorEnd, int half, float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector b00 = a00, b01 = a00, b10 = a00, b11 = a00, b20 = a00, b21 = a00, b30 = a00, b31 = a00;
        int pairs = vectorEnd / (2 * L);
        for (int k = 0; k < pairs; k++) {  // offsets linear in the loop counter, so C2 drops the bounds checks
            int i = k * 2 * L;
            {
                FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
                FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
                FloatVector r = ((IntVector) ByteVector.fromMemorySegment(B, w, ba + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
                a00 = r.fma(t0, a00);
                a10 = r.fma(t1, a10);
                a20 = r.fma(t2, a20);
                a30 = r.fma(t3, a30);
                r = ((IntVector) ByteVector.fromMemorySegment(B, w, bb + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
                b00 = r.fma(t0, b00);
                b10 = r.fma(t1, b10);
                b20 = r.fma(t2, b20);
                b30 = r.fma(t3, b30);
            }
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i + L), t1 = FloatVector.fromArray(F, x, x1 + i + L);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i + L), t3 = FloatVector.fromArray(F, x, x3 + i + L);
            FloatVector r = ((IntVector) ByteVector.fromMemorySegment(B, w, ba + (i + L), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            a01 = r.fma(t0, a01);
            a11 = r.fma(t1, a11);
            a21 = r.fma(t2, a21);
            a31 = r.fma(t3, a31);
            r = ((IntVector) ByteVector.fromMemorySegment(B, w, bb + (i + L), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            b01 = r.fma(t0, b01);
            b11 = r.fma(t1, b11);
            b21 = r.fma(t2, b21);
            b31 = r.fma(t3, b31);
        }
        if (pairs * 2 * L < vectorEnd) {  // a last, odd chunk: chain 0
            int k = pairs, i = k * 2 * L;
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = ((IntVector) ByteVector.fromMemorySegment(B, w, ba + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            a00 = r.fma(t0, a00);
            a10 = r.fma(t1, a10);
            a20 = r.fma(t2, a20);
            a30 = r.fma(t3, a30);
            r = ((IntVector) ByteVector.fromMemorySegment(B, w, bb + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
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
