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

/**
 * Decode-shaped dot products (four weight rows with one or four tokens) straight from the stored bytes,
 * widening narrow weights in registers. One method per format so each loop compiles without a per-vector
 * dispatch. Each
 * (row, token) sum is the same FMA chain, lane order and scalar tail as {@link DotKernels} on a block
 * decoded by {@link RowBlockDecoder}, so both paths give identical bits.
 */
final class FusedRows {
    private static final int L = DotKernels.F.length();
    private static final jdk.incubator.vector.VectorSpecies<Short> S =
            jdk.incubator.vector.VectorSpecies.of(short.class, jdk.incubator.vector.VectorShape.forBitSize(L * 16));
    private static final jdk.incubator.vector.VectorSpecies<Byte> B =
            jdk.incubator.vector.VectorSpecies.of(byte.class, jdk.incubator.vector.VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final jdk.incubator.vector.VectorSpecies<Integer> I =
            jdk.incubator.vector.VectorSpecies.of(int.class, DotKernels.F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /** Sign (replicated by the widening) and the seven magnitude bits of an e4m3 byte shifted left by 20. */
    static final int E4M3_BITS = 0x87F00000;
    /** Rebases the moved exponent from bias 7 to 127 (exact). */
    static final float E4M3_REBASE = 0x1p120f;

    private FusedRows() {}

    private static FloatVector x(float[] x, int offset) {
        return FloatVector.fromArray(DotKernels.F, x, offset);
    }

    /** {@code sums[r]} = dot of BF16 row r (byte offsets b0..b3) with the token at {@code x0}. */
    static void bf16Rows4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                          float[] sums, float[] lanes) {
        FloatVector a0 = FloatVector.zero(DotKernels.F), a1 = a0, a2 = a0, a3 = a0;
        // loads written out: a vector passed to a helper that C2 does not inline gets boxed
        for (int i = 0; i < vectorEnd; i += L) {
            FloatVector xi = x(x, x0 + i);
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, w, b0 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xi, a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, w, b1 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xi, a1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(S, w, b2 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xi, a2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(S, w, b3 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xi, a3);
        }
        // no arrays of vectors here: storing them would make C2 box the accumulators
        a0.intoArray(lanes, 0 * L);
        a1.intoArray(lanes, 1 * L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        LaneSums.sums4(lanes, sums);
        for (int r = 0; vectorEnd < n && r < 4; r++) {
            sums[r] = bf16Tail(w, r == 0 ? b0 : r == 1 ? b1 : r == 2 ? b2 : b3, x, x0, vectorEnd, n, sums[r]);
        }
    }

    /** As {@link #bf16Rows4} for e4m3 rows: each byte widened, its exponent and mantissa moved into an FP32's. */
    static void e4m3Rows4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                          float[] sums, float[] lanes) {
        FloatVector a0 = FloatVector.zero(DotKernels.F), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < vectorEnd; i += L) {
            FloatVector xi = x(x, x0 + i);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, w, b0 + i, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, w, b1 + i, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, w, b2 + i, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, w, b3 + i, LE).convertShape(VectorOperators.B2I, I, 0);
            // sign-extended bytes: shift the magnitude to FP32 bit 20 keeping the sign, then rebase the exponent
            a0 = q0.lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(xi, a0);
            a1 = q1.lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(xi, a1);
            a2 = q2.lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(xi, a2);
            a3 = q3.lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE).fma(xi, a3);
        }
        a0.intoArray(lanes, 0 * L);
        a1.intoArray(lanes, 1 * L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        LaneSums.sums4(lanes, sums);
        for (int r = 0; vectorEnd < n && r < 4; r++) {
            sums[r] = e4m3Tail(w, r == 0 ? b0 : r == 1 ? b1 : r == 2 ? b2 : b3, x, x0, vectorEnd, n, sums[r]);
        }
    }

    /** As {@link #bf16Rows4} for F32 rows (natural order). */
    static void f32Rows4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                         float[] sums, float[] lanes) {
        FloatVector a0 = FloatVector.zero(DotKernels.F), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < vectorEnd; i += L) {
            FloatVector xi = x(x, x0 + i);
            a0 = FloatVector.fromMemorySegment(DotKernels.F, w, b0 + 4L * i, LE).fma(xi, a0);
            a1 = FloatVector.fromMemorySegment(DotKernels.F, w, b1 + 4L * i, LE).fma(xi, a1);
            a2 = FloatVector.fromMemorySegment(DotKernels.F, w, b2 + 4L * i, LE).fma(xi, a2);
            a3 = FloatVector.fromMemorySegment(DotKernels.F, w, b3 + 4L * i, LE).fma(xi, a3);
        }
        a0.intoArray(lanes, 0 * L);
        a1.intoArray(lanes, 1 * L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        LaneSums.sums4(lanes, sums);
        for (int r = 0; vectorEnd < n && r < 4; r++) {
            sums[r] = f32Tail(w, r == 0 ? b0 : r == 1 ? b1 : r == 2 ? b2 : b3, x, x0, vectorEnd, n, sums[r]);
        }
    }

    /** Four bf16 rows with four tokens at {@code x0 + t * n}: {@code sums[4 * row + token]}, each weight widened once. */
    static void bf16Tile4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           float[] sums, float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(DotKernels.F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int i = 0; i < vectorEnd; i += L) {
            FloatVector t0 = x(x, x0 + i), t1 = x(x, x1 + i), t2 = x(x, x2 + i), t3 = x(x, x3 + i);
            FloatVector r;
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, b0 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            c00 = r.fma(t0, c00);
            c01 = r.fma(t1, c01);
            c02 = r.fma(t2, c02);
            c03 = r.fma(t3, c03);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, b1 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            c10 = r.fma(t0, c10);
            c11 = r.fma(t1, c11);
            c12 = r.fma(t2, c12);
            c13 = r.fma(t3, c13);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, b2 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            c20 = r.fma(t0, c20);
            c21 = r.fma(t1, c21);
            c22 = r.fma(t2, c22);
            c23 = r.fma(t3, c23);
            r = ((IntVector) ShortVector.fromMemorySegment(S, w, b3 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
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
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) {
            long row = k < 4 ? b0 : k < 8 ? b1 : k < 12 ? b2 : b3;
            sums[k] = bf16Tail(w, row, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /** Four e4m3 rows with four tokens at {@code x0 + t * n}: {@code sums[4 * row + token]}, each weight widened once. */
    static void e4m3Tile4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           float[] sums, float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(DotKernels.F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int i = 0; i < vectorEnd; i += L) {
            FloatVector t0 = x(x, x0 + i), t1 = x(x, x1 + i), t2 = x(x, x2 + i), t3 = x(x, x3 + i);
            FloatVector r;
            r = ((IntVector) ByteVector.fromMemorySegment(B, w, b0 + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            c00 = r.fma(t0, c00);
            c01 = r.fma(t1, c01);
            c02 = r.fma(t2, c02);
            c03 = r.fma(t3, c03);
            r = ((IntVector) ByteVector.fromMemorySegment(B, w, b1 + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            c10 = r.fma(t0, c10);
            c11 = r.fma(t1, c11);
            c12 = r.fma(t2, c12);
            c13 = r.fma(t3, c13);
            r = ((IntVector) ByteVector.fromMemorySegment(B, w, b2 + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
            c20 = r.fma(t0, c20);
            c21 = r.fma(t1, c21);
            c22 = r.fma(t2, c22);
            c23 = r.fma(t3, c23);
            r = ((IntVector) ByteVector.fromMemorySegment(B, w, b3 + i, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(E4M3_BITS).reinterpretAsFloats().mul(E4M3_REBASE);
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
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) {
            long row = k < 4 ? b0 : k < 8 ? b1 : k < 12 ? b2 : b3;
            sums[k] = e4m3Tail(w, row, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /** Four f32 rows with four tokens at {@code x0 + t * n}: {@code sums[4 * row + token]}, each weight widened once. */
    static void f32Tile4x4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                           float[] sums, float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(DotKernels.F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int i = 0; i < vectorEnd; i += L) {
            FloatVector t0 = x(x, x0 + i), t1 = x(x, x1 + i), t2 = x(x, x2 + i), t3 = x(x, x3 + i);
            FloatVector r;
            r = FloatVector.fromMemorySegment(DotKernels.F, w, b0 + 4L * i, LE);
            c00 = r.fma(t0, c00);
            c01 = r.fma(t1, c01);
            c02 = r.fma(t2, c02);
            c03 = r.fma(t3, c03);
            r = FloatVector.fromMemorySegment(DotKernels.F, w, b1 + 4L * i, LE);
            c10 = r.fma(t0, c10);
            c11 = r.fma(t1, c11);
            c12 = r.fma(t2, c12);
            c13 = r.fma(t3, c13);
            r = FloatVector.fromMemorySegment(DotKernels.F, w, b2 + 4L * i, LE);
            c20 = r.fma(t0, c20);
            c21 = r.fma(t1, c21);
            c22 = r.fma(t2, c22);
            c23 = r.fma(t3, c23);
            r = FloatVector.fromMemorySegment(DotKernels.F, w, b3 + 4L * i, LE);
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
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) {
            long row = k < 4 ? b0 : k < 8 ? b1 : k < 12 ? b2 : b3;
            sums[k] = f32Tail(w, row, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
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
