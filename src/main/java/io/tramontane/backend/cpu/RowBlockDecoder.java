package io.tramontane.backend.cpu;

import io.tramontane.weights.DType;
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
 * Decodes a prefill row group (see {@code LinearKernel.prefill}) into a scratch that stays in L2 while the tiles use it
 * for every token of a panel: q8 rows to FP32, e4m3 rows to BF16. The weights are never dequantized as a whole.
 */
final class RowBlockDecoder {
    private static final int L = DotKernels.F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, DotKernels.F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    /** Lane i takes short 2i + 1 of the pair [lo, hi] of float vectors seen as shorts: the BF16 of float i. */
    private static final ShortVector HIGH_HALVES = ShortVector.fromArray(
            VectorSpecies.of(short.class, DotKernels.F.vectorShape()), highHalves(), 0);

    private RowBlockDecoder() {}

    private static short[] highHalves() {
        short[] index = new short[2 * L];
        for (int i = 0; i < index.length; i++) index[i] = (short) (2 * i + 1);
        return index;
    }

    /** End of the part of a row of {@code n} features that the kernels cover with whole vectors. */
    static int vectorEnd(int n) {
        return n - n % L;
    }

    /**
     * As {@link #vectorEnd(int)} for the rows of {@code weight}. Byte vectors are at least 8 bytes, so with
     * fewer than 8 float lanes (NEON) an e4m3 chunk's load reads past its L bytes: the last chunk is left to
     * the scalar tail when that would run past the row (and past the tensor's memory, for the last row).
     */
    static int vectorEnd(int n, CpuWeight weight) {
        return weight.quantized() == null && weight.tensor().dtype() == DType.F8_E4M3 ? e4m3VectorEnd(n) : vectorEnd(n);
    }

    private static int e4m3VectorEnd(int n) {
        int end = vectorEnd(n);
        return end > 0 && end - L + B.length() > n ? end - L : end;
    }

    /** True for the dtypes decoded here; others go through {@link RowDecoder}. */
    static boolean supports(Tensor t) {
        return switch (t.dtype()) {
            case F32, BF16, F8_E4M3 -> true;
            default -> false;
        };
    }

    /** True for the weights decoded here: quantized ones and the stored dtypes of {@link #supports(Tensor)}. */
    static boolean supports(CpuWeight w) {
        return w.quantized() != null || supports(w.tensor());
    }

    /** Rows {@code [row, row + count)} of a q8 linear into {@code out[r * n ...]}, n = columns. */
    static void decode(QuantizedMatrix m, int row, int count, float[] out) {
        int n = m.cols(), end = vectorEnd(n);
        for (int r = 0; r < count; r++) {
            Q8Rows.decode(m, row + r, out, r * n, n, end);
        }
    }

    /** Rows {@code [row, row + count)} of {@code weight} into {@code out[r * n ...]}, n = columns. */
    static void decode(Tensor weight, int row, int count, float[] out) {
        MemorySegment w = weight.storage();
        int n = (int) weight.cols();
        for (int r = 0; r < count; r++) {
            long base = weight.rowByteOffset(row + r);
            switch (weight.dtype()) {
                case F32 -> MemorySegment.copy(w, F32, base, out, r * n, n);
                case BF16 -> bf16(w, base, out, r * n, n, vectorEnd(n));
                case F8_E4M3 -> e4m3(w, base, out, r * n, n, e4m3VectorEnd(n));
                default -> throw new IllegalArgumentException("no block decoder for " + weight);
            }
        }
    }

    /**
     * Rows {@code [row, row + count)} of an e4m3 tensor as BF16 into {@code out} from byte 0, {@code 2n} bytes a row:
     * exact (an e4m3 value has four significant bits), so a BF16 kernel on them sums the floats the e4m3 kernels do.
     */
    static void e4m3ToBf16(Tensor weight, int row, int count, MemorySegment out) {
        MemorySegment w = weight.storage();
        int n = (int) weight.cols(), vectorEnd = e4m3VectorEnd(n), pairsEnd = vectorEnd / (2 * L) * (2 * L);
        for (int r = 0; r < count; r++) {
            long base = weight.rowByteOffset(row + r), o = 2L * r * n;
            for (int i = 0; i < pairsEnd; i += 2 * L) {  // the high halves of two chunks' floats, gathered by one permute
                ShortVector lo = e4m3(w, base + i).reinterpretAsShorts(), hi = e4m3(w, base + i + L).reinterpretAsShorts();
                HIGH_HALVES.selectFrom(lo, hi).intoMemorySegment(out, o + 2L * i, LE);
            }
            if (pairsEnd < vectorEnd) {  // an odd last chunk: widened as the vector kernels widen it (NaN codes included)
                e4m3(w, base + pairsEnd).reinterpretAsInts().lanewise(VectorOperators.LSHR, 16)
                        .convertShape(VectorOperators.I2S, S, 0).intoMemorySegment(out, o + 2L * pairsEnd, LE);
            }
            for (int i = vectorEnd; i < n; i++) {
                float v = Floats.e4m3ToFloat(w.get(ValueLayout.JAVA_BYTE, base + i));
                out.set(I16, o + 2L * i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
    }

    private static FloatVector e4m3(MemorySegment w, long offset) {
        return ((IntVector) ByteVector.fromMemorySegment(B, w, offset, LE).convertShape(VectorOperators.B2I, I, 0))
                .lanewise(VectorOperators.LSHL, 20).and(FusedRows.E4M3_BITS).reinterpretAsFloats().mul(FusedRows.E4M3_REBASE);
    }

    private static void bf16(MemorySegment w, long base, float[] out, int o, int n, int vectorEnd) {
        for (int i = 0; i < vectorEnd; i += L) {
            ((IntVector) ShortVector.fromMemorySegment(S, w, base + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, o + i);
        }
        for (int i = vectorEnd; i < n; i++) out[o + i] = Floats.bf16ToFloat(w.get(I16, base + 2L * i));
    }

    private static void e4m3(MemorySegment w, long base, float[] out, int o, int n, int vectorEnd) {
        for (int i = 0; i < vectorEnd; i += L) e4m3(w, base + i).intoArray(out, o + i);
        for (int i = vectorEnd; i < n; i++) out[o + i] = Floats.e4m3ToFloat(w.get(ValueLayout.JAVA_BYTE, base + i));
    }
}
