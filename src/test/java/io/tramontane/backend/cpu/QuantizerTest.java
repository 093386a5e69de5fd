package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.weights.DType;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Load-time quantization: the per-element error bounds, zero and padded blocks, folded FP8 scales, refusals. */
class QuantizerTest {
    private final Arena arena = Arena.ofShared();
    private final CpuThreads threads = new CpuThreads(3);

    @AfterEach
    void close() {
        threads.close();
        arena.close();
    }

    /**
     * Seeds and row lengths: multiples of 32 and not (1, 31, 33, 80, 100, 2250: the last block zero-padded); 2240 and
     * 2250 end in a partial q4 group at every vector width.
     */
    static Stream<Arguments> seedsAndColumns() {
        return IntStream.of(1, 31, 32, 33, 64, 80, 100, 2048, 2240, 2250).boxed()
                .flatMap(cols -> IntStream.rangeClosed(1, 3).mapToObj(seed -> Arguments.of(seed, cols)));
    }

    @ParameterizedTest(name = "seed {0}, {1} columns")
    @MethodSource("seedsAndColumns")
    void q8KeepsEveryWeightWithinHalfAStep(int seed, int cols) {
        Tensor w = QuantizedWeights.random("w", 9, cols, new SplittableRandom(seed * 1000L + cols));
        QuantizedMatrix m = Quantizer.quantize(w, 1f, CpuWeights.Q8, threads, arena);
        for (int r = 0; r < w.rows(); r++) {
            for (int c = 0; c < cols; c++) {
                float scale = QuantizedWeights.scale(m, r, c);
                int q = QuantizedWeights.quant(m, r, c);
                float maxAbs = 0;
                for (int i = c / 32 * 32; i < Math.min(cols, c / 32 * 32 + 32); i++) maxAbs = Math.max(maxAbs, Math.abs(w.get(r, i)));
                assertThat(scale).as("scale is maxabs / 127").isEqualTo(maxAbs / 127);
                assertThat(q).isBetween(-127, 127);
                assertThat(Math.abs(w.get(r, c) - (double) scale * q)).as("|w - deq| at (%d, %d)", r, c)
                        .isLessThanOrEqualTo(scale / 2.0);
            }
        }
        assertPaddingIsZero(m);
    }

    @ParameterizedTest(name = "seed {0}, {1} columns")
    @MethodSource("seedsAndColumns")
    void q4KeepsEveryWeightWithinHalfAStepExceptTheClampedTopLevel(int seed, int cols) {
        Tensor w = QuantizedWeights.random("w", 9, cols, new SplittableRandom(seed * 1000L + cols));
        QuantizedMatrix m = Quantizer.quantize(w, 1f, CpuWeights.Q4, threads, arena);
        for (int r = 0; r < w.rows(); r++) {
            for (int start = 0; start < cols; start += CpuWeights.BLOCK) {
                int end = Math.min(cols, start + CpuWeights.BLOCK);
                float scale = QuantizedWeights.scale(m, r, start);
                float maxAbs = 0;
                for (int c = start; c < end; c++) maxAbs = Math.max(maxAbs, Math.abs(w.get(r, c)));
                assertThat(Math.abs(scale)).as("|scale| is maxabs / 8 rounded to BF16")
                        .isEqualTo(Floats.bf16ToFloat(Floats.floatToBf16(maxAbs / 8)));
                for (int c = start; c < end; c++) {
                    int q = QuantizedWeights.quant(m, r, c);
                    assertThat(q).isBetween(-8, 7);
                    double error = Math.abs(w.get(r, c) - (double) scale * q);
                    // only weights beyond 7.5 steps (opposite sign to the extreme, which maps to -8) clamp to 7: at most
                    // maxabs - 7 |scale| from it (|scale| with an exact scale; the BF16 rounding of maxabs / 8 adds up
                    // to 8 x 2^-9 of it)
                    double bound = w.get(r, c) / (double) scale > 7.5 ? maxAbs - 7.0 * Math.abs(scale) : Math.abs(scale) / 2.0;
                    assertThat(error).as("|w - deq| at (%d, %d)", r, c).isLessThanOrEqualTo(bound);
                }
            }
        }
        assertPaddingIsZero(m);
    }

    @ParameterizedTest
    @EnumSource(value = CpuWeights.class, names = {"Q8", "Q4"})
    void allZeroBlocksHaveScaleZeroAndDecodeToZero(CpuWeights format) {
        float[] values = new float[3 * 70];
        for (int i = 32; i < 64; i++) values[70 + i] = i - 40;  // row 1: zero, nonzero, zero (padded) blocks
        QuantizedMatrix m = Quantizer.quantize(Tensor.ofFloats("z", new long[] {3, 70}, values), 1f, format, threads, arena);
        for (int r = 0; r < 3; r++) {
            for (int block = 0; block < 3; block++) {
                assertThat(m.scale(r, block) == 0).as("row %d block %d has scale 0", r, block).isEqualTo(r != 1 || block != 1);
            }
        }
        for (int r = 0; r < 3; r++) {
            for (int i = 0; i < 70; i++) {
                if (r != 1 || i < 32 || i >= 64) assertThat(QuantizedWeights.weight(m, r, i)).as("(%d, %d)", r, i).isZero();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = CpuWeights.class, names = {"Q8", "Q4"})
    void bytesCountScalesAndPadding(CpuWeights format) {
        int perBlock = format == CpuWeights.Q8 ? 36 : 18;  // quants and an FP32 (q8) or BF16 (q4) scale
        assertThat(format.bytes(10, 64)).isEqualTo(10L * 2 * perBlock);
        assertThat(format.bytes(10, 65)).as("a partial block costs a whole one").isEqualTo(10L * 3 * perBlock);
        QuantizedMatrix m = Quantizer.quantize(QuantizedWeights.random("w", 5, 100, new SplittableRandom(5)), 1f, format,
                threads, arena);
        assertThat(m.bytes()).isEqualTo(5L * 4 * perBlock);
        assertThat(m.quants().byteSize() + m.scales().byteSize()).isEqualTo(m.bytes() + 2 * QuantizedMatrix.SLACK);
    }

    @ParameterizedTest(name = "{0} blocks")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 5, 31, 32, 33, 64, 70, 176})
    void q4PackingPutsEveryQuantWhereTheLayoutSays(int blocks) {
        int cols = blocks * CpuWeights.BLOCK;
        byte[] quants = new byte[cols], packed = new byte[cols / 2];
        for (int c = 0; c < cols; c++) quants[c] = (byte) ((c * 7 + c / 32) % 16 - 8);
        Quantizer.packQ4(quants, blocks, packed);
        QuantizedMatrix m = new QuantizedMatrix("packed", CpuWeights.Q4, 1, cols, MemorySegment.ofArray(packed),
                MemorySegment.ofArray(new short[blocks]));
        for (int c = 0; c < cols; c++) assertThat(QuantizedWeights.quant(m, 0, c)).as("column %d", c).isEqualTo(quants[c]);
    }

    @ParameterizedTest
    @EnumSource(value = CpuWeights.class, names = {"Q8", "Q4"})
    void foldsTheFp8WeightScaleIntoTheBlockScales(CpuWeights format) {
        SplittableRandom random = new SplittableRandom(17);
        int rows = 6, cols = 96;
        MemorySegment bytes = MemorySegment.ofArray(new byte[rows * cols]);
        for (int i = 0; i < rows * cols; i++) bytes.set(ValueLayout.JAVA_BYTE, i, Floats.floatToE4m3((float) random.nextGaussian() * 50));
        Tensor e4m3 = Tensor.of("fp8", DType.F8_E4M3, new long[] {rows, cols}, bytes);
        float weightScale = 0.0123f;
        QuantizedMatrix m = Quantizer.quantize(e4m3, weightScale, format, threads, arena);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double stored = e4m3.get(r, c) * weightScale;
                float scale = Math.abs(QuantizedWeights.scale(m, r, c));
                assertThat(Math.abs(stored - QuantizedWeights.weight(m, r, c))).as("(%d, %d)", r, c)
                        .isLessThanOrEqualTo(format == CpuWeights.Q8 ? scale / 2.0 : scale);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = CpuWeights.class, names = {"Q8", "Q4"})
    void refusesValuesThatAreNotFiniteNamingTensorAndRow(CpuWeights format) {
        float[] values = new float[4 * 40];
        values[2 * 40 + 35] = Float.NaN;
        Tensor bad = Tensor.ofFloats("layers.0.attention.wq.weight", new long[] {4, 40}, values);
        assertThatThrownBy(() -> Quantizer.quantize(bad, 1f, format, threads, arena))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layers.0.attention.wq.weight").hasMessageContaining("row 2")
                .hasMessageContaining("columns from 32").hasMessageContaining("not finite");
    }

    /** Quants past the last column of each row are zero. */
    private static void assertPaddingIsZero(QuantizedMatrix m) {
        int padded = m.blocksPerRow() * CpuWeights.BLOCK;
        for (int r = 0; r < m.rows(); r++) {
            for (int c = m.cols(); c < padded; c++) assertThat(QuantizedWeights.quant(m, r, c)).as("padding (%d, %d)", r, c).isZero();
        }
    }
}
