package io.tramontane.backend.cpu;

import io.tramontane.host.HugePages;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Quantizes a linear weight into a {@link QuantizedMatrix}, rows split over the backend's threads. Each block of
 * 32 input features gets one symmetric scale (q8: FP32, q4: BF16):
 * <ul>
 * <li>{@link CpuWeights#Q8}: {@code scale = maxabs / 127}, {@code q = round(w / scale)}; every weight within
 * {@code scale / 2} of {@code scale * q}.
 * <li>{@link CpuWeights#Q4}, as llama.cpp's Q4_0: the weight of largest magnitude {@code m} maps to -8,
 * {@code scale = -m / 8} rounded to BF16 (as stored), {@code q = clamp(round(w / scale), -8, 7)}: 16 levels instead of the 15 of a
 * symmetric {@code maxabs / 7} (a step 12.5% finer). Every weight is within {@code |scale| / 2} of
 * {@code scale * q} except those of the opposite sign within 1/16 of {@code |m|}, clamped to 7 (within
 * {@code |m| - 7 |scale|}: {@code |scale|}, plus up to 1.6% of it for the BF16 rounding).
 * </ul>
 * The FP8 per-tensor weight scale is folded into the block scales. An all-zero block has scale 0; a value that is
 * not finite is refused, naming the tensor, row and block.
 */
final class Quantizer {
    private static final int BLOCK = CpuWeights.BLOCK;
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int ROWS_PER_TASK = 16;

    private Quantizer() {}

    /**
     * q4 on 2 MB pages ({@link HugePages}), q8 on the arena's own 4 KB pages: q8 decoded slower on 2 MB pages in every
     * alternated pair measured on the Zen 5 EPYC VM (fourth session: 4 of 4; 2026-11-28: 10 of 10, end to end +7% to +48%,
     * JMH 2 threads 21-23 against 26-27 GB/s), while q4 measured mixed to faster there. docs/cpu-kernels.md has the
     * measurements and what was ruled out.
     */
    private static MemorySegment allocate(Arena arena, CpuWeights format, long bytes) {
        return format == CpuWeights.Q8 ? arena.allocate(bytes, 64) : HugePages.allocate(arena, bytes);
    }

    static QuantizedMatrix quantize(Tensor tensor, float weightScale, CpuWeights format, CpuThreads threads, Arena arena) {
        if (!format.quantized()) throw new IllegalArgumentException("nothing to quantize for " + format.cliName() + " weights");
        if (BLOCK % (2 * DotKernels.F.length()) != 0) {  // the q8 kernels take whole vector chunks, two per block at 16 lanes
            throw new IllegalStateException("quantized CPU weights need vectors of at most 16 floats; this machine's hold "
                    + DotKernels.F.length());
        }
        if (tensor.rows() > Integer.MAX_VALUE || tensor.cols() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot quantize " + tensor + ": more than 2^31 rows or columns");
        }
        int rows = (int) tensor.rows(), cols = (int) tensor.cols(), blocks = CpuWeights.blocksPerRow(cols);
        MemorySegment quants = allocate(arena, format, (long) rows * blocks * format.quantBytesPerBlock() + QuantizedMatrix.SLACK);
        MemorySegment scales = allocate(arena, format, (long) rows * blocks * format.scaleBytes() + QuantizedMatrix.SLACK);
        QuantizedMatrix m = new QuantizedMatrix(tensor.name(), format, rows, cols, quants, scales);
        AtomicReference<IllegalArgumentException> invalid = new AtomicReference<>();
        threads.parallelFor(rows, ROWS_PER_TASK, (from, to) -> {
            float[] row = new float[cols];
            byte[] q = new byte[blocks * format.quantBytesPerBlock()];
            byte[] nibbles = format == CpuWeights.Q4 ? new byte[blocks * BLOCK] : null;
            float[] s = new float[blocks];
            for (int r = from; r < to; r++) {
                if (RowBlockDecoder.supports(tensor)) RowBlockDecoder.decode(tensor, r, 1, row);
                else RowDecoder.decode(tensor, r, row);
                if (weightScale != 1f) for (int i = 0; i < cols; i++) row[i] *= weightScale;
                try {
                    for (int b = 0; b < blocks; b++) {
                        int start = b * BLOCK, count = Math.min(BLOCK, cols - start);
                        s[b] = format == CpuWeights.Q8 ? q8(row, start, count, q, b * BLOCK)
                                : q4(row, start, count, nibbles, b * BLOCK);
                    }
                    if (nibbles != null) packQ4(nibbles, blocks, q);
                } catch (IllegalArgumentException e) {
                    invalid.compareAndSet(null, new IllegalArgumentException("cannot quantize " + tensor + " to "
                            + format.cliName() + ": row " + r + ", " + e.getMessage(), e));
                    return;
                }
                MemorySegment.copy(q, 0, quants, ValueLayout.JAVA_BYTE, m.quantOffset(r), q.length);
                if (format == CpuWeights.Q8) MemorySegment.copy(s, 0, scales, QuantizedMatrix.SCALE, m.scaleOffset(r), blocks);
                else for (int b = 0; b < blocks; b++) scales.set(BF16, m.scaleOffset(r) + 2L * b, Floats.floatToBf16(s[b]));
            }
        });
        if (invalid.get() != null) throw invalid.get();
        return m;
    }

    /** One q8 block: {@code count} weights from {@code w[start]} into {@code q[o ...]} (the rest zero); its scale. */
    static float q8(float[] w, int start, int count, byte[] q, int o) {
        float maxAbs = 0;
        for (int i = 0; i < count; i++) maxAbs = Math.max(maxAbs, Math.abs(w[start + i]));  // NaN propagates
        float scale = checked(maxAbs / 127, start);
        double inverse = scale == 0 ? 0 : 1.0 / scale;
        for (int i = 0; i < BLOCK; i++) q[o + i] = i < count ? quant(w[start + i], inverse, -127, 127) : 0;
        return scale;
    }

    /** One q4 block: {@code count} weights from {@code w[start]} as quants in [-8, 7] into {@code q[o ...]} (the rest zero); its scale. */
    static float q4(float[] w, int start, int count, byte[] q, int o) {
        float maxAbs = 0, extreme = 0;
        for (int i = 0; i < count; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(w[start + i]));  // NaN propagates
            if (Math.abs(w[start + i]) > Math.abs(extreme)) extreme = w[start + i];
        }
        checked(maxAbs, start);
        float scale = Floats.bf16ToFloat(Floats.floatToBf16(extreme == 0 ? 0 : -extreme / 8));  // as stored
        double inverse = scale == 0 ? 0 : 1.0 / scale;
        for (int i = 0; i < BLOCK; i++) q[o + i] = i < count ? quant(w[start + i], inverse, -8, 7) : 0;
        return scale;
    }

    /** A row's quants, one per column ({@code blocks * 32}), into its q4 bytes as {@link QuantizedMatrix#Q4_GROUP} lays them out. */
    static void packQ4(byte[] quants, int blocks, byte[] out) {
        int group = QuantizedMatrix.Q4_GROUP;
        for (int g = 0; g * group < blocks; g++) {
            int width = QuantizedMatrix.q4GroupWidth(blocks, g), base = g * group * BLOCK / 2;
            for (int l = 0; l < width; l++) {
                int q = (g * group + l) * BLOCK;
                for (int p = 0; p < BLOCK / 4; p++, q += 4) {
                    int o = base + 2 * (p * width + l);
                    out[o] = (byte) (quants[q] & 0xF | quants[q + 1] << 4);
                    out[o + 1] = (byte) (quants[q + 2] & 0xF | quants[q + 3] << 4);
                }
            }
        }
    }

    private static byte quant(float w, double inverse, int min, int max) {
        return (byte) Math.clamp((long) Math.rint(w * inverse), min, max);
    }

    /** {@code maxAbs}, refused when not finite; {@code start} (the block's first column) names the block. */
    private static float checked(float maxAbs, int start) {
        if (!Float.isFinite(maxAbs)) {
            throw new IllegalArgumentException("the block of columns from " + start + " holds a value that is not finite");
        }
        return maxAbs;
    }
}
