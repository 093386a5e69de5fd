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
 * Decode-shaped dot products (one token, four weight rows) straight from the stored bytes, widening
 * narrow weights in registers. One method per format so each loop compiles without a per-vector
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
                          float[] sums) {
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
        sums[0] = bf16Tail(w, b0, x, x0, vectorEnd, n, VectorMath.sumLanes(a0));
        sums[1] = bf16Tail(w, b1, x, x0, vectorEnd, n, VectorMath.sumLanes(a1));
        sums[2] = bf16Tail(w, b2, x, x0, vectorEnd, n, VectorMath.sumLanes(a2));
        sums[3] = bf16Tail(w, b3, x, x0, vectorEnd, n, VectorMath.sumLanes(a3));
    }

    /** As {@link #bf16Rows4} for e4m3 rows: each byte widened, its exponent and mantissa moved into an FP32's. */
    static void e4m3Rows4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                          float[] sums) {
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
        sums[0] = e4m3Tail(w, b0, x, x0, vectorEnd, n, VectorMath.sumLanes(a0));
        sums[1] = e4m3Tail(w, b1, x, x0, vectorEnd, n, VectorMath.sumLanes(a1));
        sums[2] = e4m3Tail(w, b2, x, x0, vectorEnd, n, VectorMath.sumLanes(a2));
        sums[3] = e4m3Tail(w, b3, x, x0, vectorEnd, n, VectorMath.sumLanes(a3));
    }

    /** As {@link #bf16Rows4} for F32 rows (natural order). */
    static void f32Rows4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, int vectorEnd,
                         float[] sums) {
        FloatVector a0 = FloatVector.zero(DotKernels.F), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < vectorEnd; i += L) {
            FloatVector xi = x(x, x0 + i);
            a0 = FloatVector.fromMemorySegment(DotKernels.F, w, b0 + 4L * i, LE).fma(xi, a0);
            a1 = FloatVector.fromMemorySegment(DotKernels.F, w, b1 + 4L * i, LE).fma(xi, a1);
            a2 = FloatVector.fromMemorySegment(DotKernels.F, w, b2 + 4L * i, LE).fma(xi, a2);
            a3 = FloatVector.fromMemorySegment(DotKernels.F, w, b3 + 4L * i, LE).fma(xi, a3);
        }
        sums[0] = f32Tail(w, b0, x, x0, vectorEnd, n, VectorMath.sumLanes(a0));
        sums[1] = f32Tail(w, b1, x, x0, vectorEnd, n, VectorMath.sumLanes(a1));
        sums[2] = f32Tail(w, b2, x, x0, vectorEnd, n, VectorMath.sumLanes(a2));
        sums[3] = f32Tail(w, b3, x, x0, vectorEnd, n, VectorMath.sumLanes(a3));
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
