package io.tramontane.backend.cpu;

import io.tramontane.weights.Floats;
import io.tramontane.weights.Tensor;
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
 * Decodes a few weight rows at a time into a small FP32 block that stays in L1 while the kernels use it
 * (once in decode, for every token of the panel in prefill): the weights are never dequantized as a
 * whole. Each format has its own small loop so the JIT compiles it without a per-vector dispatch.
 */
final class RowBlockDecoder {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    /** e4m3's exponent and mantissa moved into an FP32's are rebased from bias 7 to 127 by one exact multiply. */
    private static final float E4M3_REBASE = 0x1p120f;

    private RowBlockDecoder() {}

    /** True for the dtypes decoded here; others go through {@link RowDecoder}. */
    static boolean supports(Tensor t) {
        return switch (t.dtype()) {
            case F32, BF16, F8_E4M3 -> true;
            default -> false;
        };
    }

    /** Rows {@code [row, row + count)} of {@code weight} into {@code out[r * n ...]}, n = columns. */
    static void decode(Tensor weight, int row, int count, float[] out) {
        MemorySegment w = weight.storage();
        int n = (int) weight.cols();
        for (int r = 0; r < count; r++) {
            long base = weight.rowByteOffset(row + r);
            switch (weight.dtype()) {
                case F32 -> MemorySegment.copy(w, F32, base, out, r * n, n);
                case BF16 -> bf16(w, base, out, r * n, n);
                case F8_E4M3 -> e4m3(w, base, out, r * n, n);
                default -> throw new IllegalArgumentException("no block decoder for " + weight);
            }
        }
    }

    /** BF16 is the top half of an FP32: widen and shift. */
    private static void bf16(MemorySegment w, long base, float[] out, int o, int n) {
        int i = 0;
        for (int bound = n - n % L; i < bound; i += L) {
            ((IntVector) ShortVector.fromMemorySegment(S, w, base + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, o + i);
        }
        for (; i < n; i++) out[o + i] = Floats.bf16ToFloat(w.get(I16, base + 2L * i));
    }

    private static void e4m3(MemorySegment w, long base, float[] out, int o, int n) {
        int i = 0;
        for (int bound = n - n % L; i < bound; i += L) {
            IntVector b = (IntVector) ByteVector.fromMemorySegment(B, w, base + i, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector bits = b.and(0x7F).lanewise(VectorOperators.LSHL, 20).or(b.and(0x80).lanewise(VectorOperators.LSHL, 24));
            bits.reinterpretAsFloats().mul(E4M3_REBASE).intoArray(out, o + i);
        }
        for (; i < n; i++) out[o + i] = Floats.e4m3ToFloat(w.get(ValueLayout.JAVA_BYTE, base + i));
    }
}
