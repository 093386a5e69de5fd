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
 * Copies a prefill row group (see {@code LinearKernel.prefill}) into a scratch that stays in L2 while the tiles use it
 * for every token of a panel, in the split layout of {@link StoredTiles}: e4m3 rows as BF16, F32 and q8 rows as FP32
 * (BF16 rows need no copy: {@link DotKernels}); and lays out the tokens as the kernels read them. The copy reads the
 * group as one sequential stream, which the Zen 5 EPYC VM served at twice the rate of the several row streams a tile
 * would read (docs/cpu-kernels.md). The weights are never dequantized as a whole. Also decodes whole
 * rows in natural order, for load-time quantization and the tests.
 */
final class RowBlockDecoder {
    private static final int L = DotKernels.F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, DotKernels.F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private RowBlockDecoder() {}

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
        if (weight.quantized() != null) return vectorEnd(n);
        return switch (weight.tensor().dtype()) {
            case F8_E4M3 -> e4m3VectorEnd(n);
            case BF16 -> n - n % (2 * L);  // whole words of two chunks (DotKernels)
            default -> vectorEnd(n);
        };
    }

    /** True for a BF16 weight as stored, whose kernels read words of two chunks and tokens in the word layout. */
    static boolean readsWords(CpuWeight weight) {
        return weight.quantized() == null && weight.tensor().dtype() == DType.BF16;
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

    /**
     * Rows {@code [row, row + count)} of an F32 or q8 weight as FP32 into {@code out} from byte 0, {@code 4n} bytes a row
     * (n = columns), in the split layout of {@link StoredTiles}: the values every other kernel multiplies with.
     */
    static void fp32Split(CpuWeight weight, int row, int count, MemorySegment out) {
        QuantizedMatrix m = weight.quantized();
        Tensor t = weight.tensor();
        int n = m != null ? m.cols() : (int) t.cols(), vectorEnd = vectorEnd(n), chunks = vectorEnd / L;
        int pairs = chunks / 2, evens = (chunks + 1) / 2;
        for (int r = 0; r < count; r++) {
            long o = 4L * r * n;
            if (m != null) {
                Q8Rows.decodeSplit(m, row + r, out, o, n, vectorEnd);
                continue;
            }
            long base = t.rowByteOffset(row + r);
            for (int k = 0; k < pairs; k++) {  // chunk 2k to place k, chunk 2k + 1 to place evens + k; offsets linear in k
                FloatVector.fromMemorySegment(DotKernels.F, t.storage(), base + 8L * k * L, LE).intoMemorySegment(out, o + 4L * k * L, LE);
                FloatVector.fromMemorySegment(DotKernels.F, t.storage(), base + 4L * (2L * k + 1) * L, LE)
                        .intoMemorySegment(out, o + 4L * (evens + k) * L, LE);
            }
            if (pairs < evens) {
                FloatVector.fromMemorySegment(DotKernels.F, t.storage(), base + 8L * pairs * L, LE).intoMemorySegment(out, o + 4L * pairs * L, LE);
            }
            MemorySegment.copy(t.storage(), base + 4L * vectorEnd, out, o + 4L * vectorEnd, 4L * (n - vectorEnd));
        }
    }

    /**
     * Tokens {@code [from, to)} of {@code x} (n features each) into the same places of {@code out} shifted by
     * {@code outStart} (where {@code out} is 64-byte aligned: {@link ArrayAlignment}), in the layout the kernels of
     * {@code weight} read them in: the word layout for BF16 ({@link #wordTokens}), else the split layout.
     */
    static void arrangeTokens(CpuWeight weight, float[] x, int from, int to, int n, int vectorEnd, float[] out, int outStart) {
        if (readsWords(weight)) wordTokens(x, from, to, n, vectorEnd, out, outStart);
        else splitTokens(x, from, to, n, vectorEnd, out, outStart);
    }

    /**
     * Tokens {@code [from, to)} of {@code x} (n features each) into the same places of {@code out} from {@code outStart},
     * in the word layout of BF16 rows ({@link DotKernels}): each 2L features up to {@code vectorEnd}, the even ones then
     * the odd ones (the weights that the low and the high halves of a word of the stored row hold); the tail in place.
     */
    static void wordTokens(float[] x, int from, int to, int n, int vectorEnd, float[] out, int outStart) {
        for (int t = from; t < to; t++) {
            for (int i = t * n, o = outStart + i, end = i + vectorEnd; i < end; i += 2 * L, o += 2 * L) {
                FloatVector a = FloatVector.fromArray(DotKernels.F, x, i), b = FloatVector.fromArray(DotKernels.F, x, i + L);
                EVENS.selectFrom(a, b).intoArray(out, o);
                ODDS.selectFrom(a, b).intoArray(out, o + L);
            }
            System.arraycopy(x, t * n + vectorEnd, out, outStart + t * n + vectorEnd, n - vectorEnd);
        }
    }

    /** Permute indexes into the concatenation of two vectors: its even lanes, its odd lanes. */
    private static final FloatVector EVENS = lanes(0), ODDS = lanes(1);

    private static FloatVector lanes(int first) {
        float[] index = new float[L];
        for (int l = 0; l < L; l++) index[l] = 2 * l + first;
        return FloatVector.fromArray(DotKernels.F, index, 0);
    }

    /**
     * Tokens {@code [from, to)} of {@code x} (n features each) into the same places of {@code out} from {@code outStart},
     * in the split layout of {@link StoredTiles}, chunks of whole vectors up to {@code vectorEnd}.
     */
    static void splitTokens(float[] x, int from, int to, int n, int vectorEnd, float[] out, int outStart) {
        int chunks = vectorEnd / L, pairs = chunks / 2, evens = (chunks + 1) / 2;
        for (int t = from; t < to; t++) {
            int i = t * n, o = outStart + i;
            for (int k = 0; k < pairs; k++) {  // chunk 2k to place k, chunk 2k + 1 to place evens + k
                FloatVector.fromArray(DotKernels.F, x, i + 2 * k * L).intoArray(out, o + k * L);
                FloatVector.fromArray(DotKernels.F, x, i + (2 * k + 1) * L).intoArray(out, o + (evens + k) * L);
            }
            if (pairs < evens) FloatVector.fromArray(DotKernels.F, x, i + 2 * pairs * L).intoArray(out, o + pairs * L);
            System.arraycopy(x, i + vectorEnd, out, o + vectorEnd, n - vectorEnd);
        }
    }

    /**
     * Rows {@code [row, row + count)} of an e4m3 tensor widened to BF16 into {@code out} from byte 0, {@code 2n} bytes a
     * row, in the paired split layout of {@link StoredTiles}: an exact widening (an e4m3 value has four significant
     * bits), so the BF16 tiles sum the floats the e4m3 kernels do. Chunks 4k and 4k + 2 make chain 0's pair k, chunks
     * 4k + 1 and 4k + 3 chain 1's; a chain's odd last chunk stays as it is. Each BF16 value is the high half of the
     * float the vector kernels widen (NaN codes included).
     */
    static void e4m3Split(Tensor weight, int row, int count, MemorySegment out) {
        MemorySegment w = weight.storage();
        int n = (int) weight.cols(), vectorEnd = e4m3VectorEnd(n), chunks = vectorEnd / L;
        int quads = chunks / 4, evens = (chunks + 1) / 2, odds = chunks / 2;
        long odd = 2L * evens * L;  // where chain 1 starts
        for (int r = 0; r < count; r++) {
            long base = weight.rowByteOffset(row + r), o = 2L * r * n;
            for (int k = 0; k < quads; k++) {  // offsets linear in k: C2 drops the bounds checks
                long c = base + 4L * k * L, at = o + 4L * k * L;
                ((IntVector) e4m3(w, c).reinterpretShape(I, 0)).lanewise(VectorOperators.LSHR, 16)
                        .or((IntVector) e4m3(w, c + 2L * L).reinterpretShape(I, 0))
                        .intoMemorySegment(out, at, LE);
                ((IntVector) e4m3(w, c + L).reinterpretShape(I, 0)).lanewise(VectorOperators.LSHR, 16)
                        .or((IntVector) e4m3(w, c + 3L * L).reinterpretShape(I, 0))
                        .intoMemorySegment(out, odd + at, LE);
            }
            if (evens / 2 > quads) {  // three chunks past the quads: chain 0 has one more pair
                long c = base + 4L * quads * L;
                pair(w, c, c + 2L * L, out, o + 4L * quads * L);
            }
            if (evens % 2 != 0) single(w, base + 2L * (evens - 1) * L, out, o + 4L * (evens / 2) * L);
            if (odds % 2 != 0) single(w, base + (2L * odds - 1) * L, out, o + odd + 4L * (odds / 2) * L);
            for (int i = vectorEnd; i < n; i++) {
                out.set(I16, o + 2L * i, (short) (Float.floatToRawIntBits(Floats.e4m3ToFloat(w.get(ValueLayout.JAVA_BYTE, base + i))) >>> 16));
            }
        }
    }

    /**
     * The stored e4m3 chunks at {@code a} and {@code b} as one paired vector at {@code at} (word l = a's BF16 l | b's BF16
     * l << 16), for a row's last chunks. The quads' loop writes the same inline: called from it, this method's e4m3
     * widening sometimes compiled to the Vector API's Java fallback (FP8 16-stream decode at half speed, from one run
     * to the next). The widening is written out here and in {@link #single}, no helper returning a vector: with 4 lanes,
     * where rows end in these chunks, the helper ran as the Java fallback, allocating on every row
     * (LinearKernelAllocationTest).
     */
    private static void pair(MemorySegment w, long a, long b, MemorySegment out, long at) {
        IntVector first = ((IntVector) ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, a, LE).convertShape(VectorOperators.B2I, I, 0))
                .lanewise(VectorOperators.LSHL, 20).and(FusedRows.E4M3_BITS).reinterpretShape(DotKernels.F, 0)).mul(FusedRows.E4M3_REBASE)
                .reinterpretShape(I, 0));
        IntVector second = ((IntVector) ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, b, LE).convertShape(VectorOperators.B2I, I, 0))
                .lanewise(VectorOperators.LSHL, 20).and(FusedRows.E4M3_BITS).reinterpretShape(DotKernels.F, 0)).mul(FusedRows.E4M3_REBASE)
                .reinterpretShape(I, 0));
        first.lanewise(VectorOperators.LSHR, 16).or(second).intoMemorySegment(out, at, LE);
    }

    /** The stored e4m3 chunk at {@code c} as L BF16 values at {@code at}. */
    private static void single(MemorySegment w, long c, MemorySegment out, long at) {
        ((IntVector) ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, c, LE).convertShape(VectorOperators.B2I, I, 0))
                .lanewise(VectorOperators.LSHL, 20).and(FusedRows.E4M3_BITS).reinterpretShape(DotKernels.F, 0)).mul(FusedRows.E4M3_REBASE)
                .reinterpretShape(I, 0)).lanewise(VectorOperators.LSHR, 16).convertShape(VectorOperators.I2S, S, 0)
                .intoMemorySegment(out, at, LE);
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

    private static FloatVector e4m3(MemorySegment w, long offset) {
        return ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, w, offset, LE).convertShape(VectorOperators.B2I, I, 0))
                .lanewise(VectorOperators.LSHL, 20).and(FusedRows.E4M3_BITS).reinterpretShape(DotKernels.F, 0)).mul(FusedRows.E4M3_REBASE);
    }

    private static void bf16(MemorySegment w, long base, float[] out, int o, int n, int vectorEnd) {
        for (int i = 0; i < vectorEnd; i += L) {
            ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, w, base + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretShape(DotKernels.F, 0)).intoArray(out, o + i);
        }
        for (int i = vectorEnd; i < n; i++) out[o + i] = Floats.bf16ToFloat(w.get(I16, base + 2L * i));
    }

    private static void e4m3(MemorySegment w, long base, float[] out, int o, int n, int vectorEnd) {
        for (int i = 0; i < vectorEnd; i += L) e4m3(w, base + i).intoArray(out, o + i);
        for (int i = vectorEnd; i < n; i++) out[o + i] = Floats.e4m3ToFloat(w.get(ValueLayout.JAVA_BYTE, base + i));
    }
}
