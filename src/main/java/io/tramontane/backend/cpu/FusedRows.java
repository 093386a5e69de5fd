package io.tramontane.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode-shaped dot products (one token, four weight rows) straight from the stored bytes: weights are
 * decoded in registers, one format per method so each loop is compiled without a per-vector dispatch.
 * Each (row, token) sum is the same FMA chain, lane order and scalar tail as {@link DotKernels}, so
 * both paths give identical bits.
 */
final class FusedRows {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private static final java.lang.foreign.ValueLayout.OfShort I16 = java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final java.lang.foreign.ValueLayout.OfFloat F32 = java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private enum Kind { F32, BF16, E4M3 }

    private FusedRows() {}

    /** Adds the scalar tail {@code [from, n)} to each row's sum (not per-vector: no dispatch cost in the loop). */
    private static void tail(MemorySegment w, Kind kind, long b0, long b1, long b2, long b3, float[] x, int x0, int from,
                             int n, float[] sums) {
        long[] bases = {b0, b1, b2, b3};
        for (int r = 0; r < 4; r++) {
            long b = bases[r];
            float sum = sums[r];
            for (int i = from; i < n; i++) {
                float wi = switch (kind) {
                    case F32 -> w.get(F32, b + 4L * i);
                    case BF16 -> io.tramontane.weights.Floats.bf16ToFloat(w.get(I16, b + 2L * i));
                    case E4M3 -> io.tramontane.weights.Floats.e4m3ToFloat(w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, b + i));
                };
                sum += wi * x[x0 + i];
            }
            sums[r] = sum;
        }
    }

    private static FloatVector bf16(MemorySegment w, long offset) {
        return ((IntVector) ShortVector.fromMemorySegment(S, w, offset, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector e4m3(MemorySegment w, long offset) {
        IntVector b = (IntVector) ByteVector.fromMemorySegment(B, w, offset, LE).convertShape(VectorOperators.B2I, I, 0);
        return b.and(0x7F).lanewise(VectorOperators.LSHL, 20).or(b.and(0x80).lanewise(VectorOperators.LSHL, 24))
                .reinterpretAsFloats().mul(0x1p120f);
    }

    /** {@code sums[r]} = dot of BF16 row {@code r} (at byte offsets b0..b3) with the token at {@code x0}. */
    static void bf16Rows4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, float[] sums) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - n % L; i < bound; i += L) {
            FloatVector xi = FloatVector.fromArray(F, x, x0 + i);
            a0 = bf16(w, b0 + 2L * i).fma(xi, a0);
            a1 = bf16(w, b1 + 2L * i).fma(xi, a1);
            a2 = bf16(w, b2 + 2L * i).fma(xi, a2);
            a3 = bf16(w, b3 + 2L * i).fma(xi, a3);
        }
        sums[0] = VectorMath.sumLanes(a0);
        sums[1] = VectorMath.sumLanes(a1);
        sums[2] = VectorMath.sumLanes(a2);
        sums[3] = VectorMath.sumLanes(a3);
        tail(w, Kind.BF16, b0, b1, b2, b3, x, x0, i, n, sums);
    }

    /** As {@link #bf16Rows4} for e4m3 rows. */
    static void e4m3Rows4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, float[] sums) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - n % L; i < bound; i += L) {
            FloatVector xi = FloatVector.fromArray(F, x, x0 + i);
            a0 = e4m3(w, b0 + i).fma(xi, a0);
            a1 = e4m3(w, b1 + i).fma(xi, a1);
            a2 = e4m3(w, b2 + i).fma(xi, a2);
            a3 = e4m3(w, b3 + i).fma(xi, a3);
        }
        sums[0] = VectorMath.sumLanes(a0);
        sums[1] = VectorMath.sumLanes(a1);
        sums[2] = VectorMath.sumLanes(a2);
        sums[3] = VectorMath.sumLanes(a3);
        tail(w, Kind.E4M3, b0, b1, b2, b3, x, x0, i, n, sums);
    }

    /** As {@link #bf16Rows4} for F32 rows. */
    static void f32Rows4(MemorySegment w, long b0, long b1, long b2, long b3, float[] x, int x0, int n, float[] sums) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - n % L; i < bound; i += L) {
            FloatVector xi = FloatVector.fromArray(F, x, x0 + i);
            a0 = FloatVector.fromMemorySegment(F, w, b0 + 4L * i, LE).fma(xi, a0);
            a1 = FloatVector.fromMemorySegment(F, w, b1 + 4L * i, LE).fma(xi, a1);
            a2 = FloatVector.fromMemorySegment(F, w, b2 + 4L * i, LE).fma(xi, a2);
            a3 = FloatVector.fromMemorySegment(F, w, b3 + 4L * i, LE).fma(xi, a3);
        }
        sums[0] = VectorMath.sumLanes(a0);
        sums[1] = VectorMath.sumLanes(a1);
        sums[2] = VectorMath.sumLanes(a2);
        sums[3] = VectorMath.sumLanes(a3);
        tail(w, Kind.F32, b0, b1, b2, b3, x, x0, i, n, sums);
    }
}
