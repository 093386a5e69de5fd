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
 * order of {@link DotKernels}, so these give the bits of {@link DotKernels} on a block decoded by
 * {@link RowBlockDecoder}.
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

    /** The dot of the BF16 row at byte offset {@code b} with the token at {@code x0} (order: see {@link DotKernels}). */
    static float bf16Row(MemorySegment w, long b, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= vectorEnd; i += 4 * L) {
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i + L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i + 2 * L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i + 3 * L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a3);
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
        if (i < vectorEnd) a2 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, x0 + i), a2);
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        return bf16Tail(w, b, x, x0, vectorEnd, n, LaneSums.sum1(lanes));
    }

    /** Four BF16 rows with four tokens at {@code x0 + t * n}: {@code sums[4 * row + token]}, each weight widened once. */
    static void bf16Tile4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           float[] sums, float[] lanes) {
        for (int pass = 0; pass < 4; pass++) bf16Pass4x4(w, b0, b1, b2, b3, x, x0, n, vectorEnd, pass, lanes);
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) {
            long row = k < 4 ? b0 : k < 8 ? b1 : k < 12 ? b2 : b3;
            sums[k] = bf16Tail(w, row, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /** Pass {@code pass} of {@link #bf16Tile4x4}: the chunks j with j % 4 == pass, partials into {@code lanes[16 pass L ..]}. */
    private static void bf16Pass4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           int pass, float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int i = pass * L; i < vectorEnd; i += 4 * L) {
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = ((IntVector) ShortVector.fromMemorySegment(S, w, b0 + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            c00 = r.fma(t0, c00);
            c01 = r.fma(t1, c01);
            c02 = r.fma(t2, c02);
            c03 = r.fma(t3, c03);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, b1 + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            c10 = r.fma(t0, c10);
            c11 = r.fma(t1, c11);
            c12 = r.fma(t2, c12);
            c13 = r.fma(t3, c13);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, b2 + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            c20 = r.fma(t0, c20);
            c21 = r.fma(t1, c21);
            c22 = r.fma(t2, c22);
            c23 = r.fma(t3, c23);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, b3 + 2L * (i), LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            c30 = r.fma(t0, c30);
            c31 = r.fma(t1, c31);
            c32 = r.fma(t2, c32);
            c33 = r.fma(t3, c33);
        }
        int o = 16 * pass * L;
        c00.intoArray(lanes, o);
        c01.intoArray(lanes, o + L);
        c02.intoArray(lanes, o + 2 * L);
        c03.intoArray(lanes, o + 3 * L);
        c10.intoArray(lanes, o + 4 * L);
        c11.intoArray(lanes, o + 5 * L);
        c12.intoArray(lanes, o + 6 * L);
        c13.intoArray(lanes, o + 7 * L);
        c20.intoArray(lanes, o + 8 * L);
        c21.intoArray(lanes, o + 9 * L);
        c22.intoArray(lanes, o + 10 * L);
        c23.intoArray(lanes, o + 11 * L);
        c30.intoArray(lanes, o + 12 * L);
        c31.intoArray(lanes, o + 13 * L);
        c32.intoArray(lanes, o + 14 * L);
        c33.intoArray(lanes, o + 15 * L);
    }

    /** The dot of the e4m3 row at byte offset {@code b} with the token at {@code x0} (order: see {@link DotKernels}). */
    static float e4m3Row(MemorySegment w, long b, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= vectorEnd; i += 4 * L) {
            a0 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i + L), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a2 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i + 2 * L), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a2);
            a3 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i + 3 * L), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a3);
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
        if (i < vectorEnd) a2 = ((IntVector) ByteVector.fromMemorySegment(B, w, b + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(FloatVector.fromArray(F, x, x0 + i), a2);
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        return e4m3Tail(w, b, x, x0, vectorEnd, n, LaneSums.sum1(lanes));
    }

    /** Four e4m3 rows with four tokens at {@code x0 + t * n}: {@code sums[4 * row + token]}, each weight widened once. */
    static void e4m3Tile4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           float[] sums, float[] lanes) {
        for (int pass = 0; pass < 4; pass++) e4m3Pass4x4(w, b0, b1, b2, b3, x, x0, n, vectorEnd, pass, lanes);
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) {
            long row = k < 4 ? b0 : k < 8 ? b1 : k < 12 ? b2 : b3;
            sums[k] = e4m3Tail(w, row, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /** Pass {@code pass} of {@link #e4m3Tile4x4}: the chunks j with j % 4 == pass, partials into {@code lanes[16 pass L ..]}. */
    private static void e4m3Pass4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           int pass, float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int i = pass * L; i < vectorEnd; i += 4 * L) {
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = ((IntVector) ByteVector.fromMemorySegment(B, w, b0 + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            c00 = r.fma(t0, c00);
            c01 = r.fma(t1, c01);
            c02 = r.fma(t2, c02);
            c03 = r.fma(t3, c03);
            r = ((IntVector) ByteVector.fromMemorySegment(B, w, b1 + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            c10 = r.fma(t0, c10);
            c11 = r.fma(t1, c11);
            c12 = r.fma(t2, c12);
            c13 = r.fma(t3, c13);
            r = ((IntVector) ByteVector.fromMemorySegment(B, w, b2 + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            c20 = r.fma(t0, c20);
            c21 = r.fma(t1, c21);
            c22 = r.fma(t2, c22);
            c23 = r.fma(t3, c23);
            r = ((IntVector) ByteVector.fromMemorySegment(B, w, b3 + (i), LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            c30 = r.fma(t0, c30);
            c31 = r.fma(t1, c31);
            c32 = r.fma(t2, c32);
            c33 = r.fma(t3, c33);
        }
        int o = 16 * pass * L;
        c00.intoArray(lanes, o);
        c01.intoArray(lanes, o + L);
        c02.intoArray(lanes, o + 2 * L);
        c03.intoArray(lanes, o + 3 * L);
        c10.intoArray(lanes, o + 4 * L);
        c11.intoArray(lanes, o + 5 * L);
        c12.intoArray(lanes, o + 6 * L);
        c13.intoArray(lanes, o + 7 * L);
        c20.intoArray(lanes, o + 8 * L);
        c21.intoArray(lanes, o + 9 * L);
        c22.intoArray(lanes, o + 10 * L);
        c23.intoArray(lanes, o + 11 * L);
        c30.intoArray(lanes, o + 12 * L);
        c31.intoArray(lanes, o + 13 * L);
        c32.intoArray(lanes, o + 14 * L);
        c33.intoArray(lanes, o + 15 * L);
    }

    /** The dot of the F32 row at byte offset {@code b} with the token at {@code x0} (order: see {@link DotKernels}). */
    static float f32Row(MemorySegment w, long b, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= vectorEnd; i += 4 * L) {
            a0 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = FloatVector.fromMemorySegment(F, w, b + 4L * (i + L), LE).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a2 = FloatVector.fromMemorySegment(F, w, b + 4L * (i + 2 * L), LE).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, w, b + 4L * (i + 3 * L), LE).fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a3);
        }
        if (i < vectorEnd) {
            a0 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(FloatVector.fromArray(F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) a2 = FloatVector.fromMemorySegment(F, w, b + 4L * (i), LE).fma(FloatVector.fromArray(F, x, x0 + i), a2);
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        return f32Tail(w, b, x, x0, vectorEnd, n, LaneSums.sum1(lanes));
    }

    /** Four F32 rows with four tokens at {@code x0 + t * n}: {@code sums[4 * row + token]}, each weight widened once. */
    static void f32Tile4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           float[] sums, float[] lanes) {
        for (int pass = 0; pass < 4; pass++) f32Pass4x4(w, b0, b1, b2, b3, x, x0, n, vectorEnd, pass, lanes);
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) {
            long row = k < 4 ? b0 : k < 8 ? b1 : k < 12 ? b2 : b3;
            sums[k] = f32Tail(w, row, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /** Pass {@code pass} of {@link #f32Tile4x4}: the chunks j with j % 4 == pass, partials into {@code lanes[16 pass L ..]}. */
    private static void f32Pass4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           int pass, float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int i = pass * L; i < vectorEnd; i += 4 * L) {
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = FloatVector.fromMemorySegment(F, w, b0 + 4L * (i), LE);
            c00 = r.fma(t0, c00);
            c01 = r.fma(t1, c01);
            c02 = r.fma(t2, c02);
            c03 = r.fma(t3, c03);
            r = FloatVector.fromMemorySegment(F, w, b1 + 4L * (i), LE);
            c10 = r.fma(t0, c10);
            c11 = r.fma(t1, c11);
            c12 = r.fma(t2, c12);
            c13 = r.fma(t3, c13);
            r = FloatVector.fromMemorySegment(F, w, b2 + 4L * (i), LE);
            c20 = r.fma(t0, c20);
            c21 = r.fma(t1, c21);
            c22 = r.fma(t2, c22);
            c23 = r.fma(t3, c23);
            r = FloatVector.fromMemorySegment(F, w, b3 + 4L * (i), LE);
            c30 = r.fma(t0, c30);
            c31 = r.fma(t1, c31);
            c32 = r.fma(t2, c32);
            c33 = r.fma(t3, c33);
        }
        int o = 16 * pass * L;
        c00.intoArray(lanes, o);
        c01.intoArray(lanes, o + L);
        c02.intoArray(lanes, o + 2 * L);
        c03.intoArray(lanes, o + 3 * L);
        c10.intoArray(lanes, o + 4 * L);
        c11.intoArray(lanes, o + 5 * L);
        c12.intoArray(lanes, o + 6 * L);
        c13.intoArray(lanes, o + 7 * L);
        c20.intoArray(lanes, o + 8 * L);
        c21.intoArray(lanes, o + 9 * L);
        c22.intoArray(lanes, o + 10 * L);
        c23.intoArray(lanes, o + 11 * L);
        c30.intoArray(lanes, o + 12 * L);
        c31.intoArray(lanes, o + 13 * L);
        c32.intoArray(lanes, o + 14 * L);
        c33.intoArray(lanes, o + 15 * L);
    }

    private static float bf16Tail(MemorySegment w, long base, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += Floats.bf16ToFloat(w.get(I16, base + 2L * i)) * x[x0 + i];
        return sum;
    }

    private static float e4m3Tail(MemorySegment w, long base, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += Floats.e4m3ToFloat(w.get(ValueLayout.JAVA_BYTE, base + i)) * x[x0 + i];
        return sum;
    }

    private static float f32Tail(MemorySegment w, long base, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w.get(F32, base + 4L * i) * x[x0 + i];
        return sum;
    }
}
