package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.TokenDraw;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** sample_rows' grid, argument checks and parameter packing up to the FFM boundary; the check's verdicts. */
class SamplingKernelsTest {
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    private static CudaActivation logits(int rows, int cols) {
        DeviceBuffer data = new DeviceBuffer(0x10000, 4L * rows * cols);
        return new CudaActivation(data, data, rows, cols);
    }

    @Test
    void oneBlockOfThreadsPerRowWithTheKernelsSharedMemory() {
        var config = SamplingKernels.config(3);
        assertThat(config.grid().x()).isEqualTo(3);
        assertThat(config.block().x()).isEqualTo(512);
        assertThat(config.sharedBytes()).isEqualTo(SamplingKernels.SHARED_BYTES);
        assertThatThrownBy(() -> SamplingKernels.config(0)).hasMessageContaining("sampled rows must be positive: 0");
    }

    @Test
    void argumentsAreMarshalledInTheKernelsOrder() {
        var x = logits(2, 131072);
        DeviceBuffer params = new DeviceBuffer(0x900000, 2 * 5 * 8), ids = new DeviceBuffer(0xA00000, 8);
        KernelArgs args = SamplingKernels.arguments(new KernelArgs(arena, 8), x, params, ids);
        assertThat(args.count()).isEqualTo(5);
        assertThat(args.array().getAtIndex(ADDRESS, 0).reinterpret(8).get(JAVA_LONG, 0)).isEqualTo(0x10000);
        assertThat(args.array().getAtIndex(ADDRESS, 1).reinterpret(4).get(JAVA_INT, 0)).isEqualTo(131072);
        assertThat(args.array().getAtIndex(ADDRESS, 2).reinterpret(4).get(JAVA_INT, 0)).isEqualTo(131072);
        assertThat(args.array().getAtIndex(ADDRESS, 3).reinterpret(8).get(JAVA_LONG, 0)).isEqualTo(0x900000);
        assertThat(args.array().getAtIndex(ADDRESS, 4).reinterpret(8).get(JAVA_LONG, 0)).isEqualTo(0xA00000);
    }

    @Test
    void buffersOfTheWrongSizeAndHugeVocabulariesAreRefusedByName() {
        var x = logits(2, 100);
        DeviceBuffer params = new DeviceBuffer(0x900000, 80), ids = new DeviceBuffer(0xA00000, 8);
        assertThatThrownBy(() -> SamplingKernels.arguments(new KernelArgs(arena, 8), x, new DeviceBuffer(0x900000, 40), ids))
                .hasMessageContaining("draw parameters has 40 bytes, expected 80");
        assertThatThrownBy(() -> SamplingKernels.arguments(new KernelArgs(arena, 8), x, params, new DeviceBuffer(0xA00000, 4)))
                .hasMessageContaining("sampled token ids has 4 bytes, expected 8");
        assertThatThrownBy(() -> SamplingKernels.arguments(new KernelArgs(arena, 8), logits(1, TokenDraw.MAX_VOCAB + 1),
                new DeviceBuffer(0x900000, 40), new DeviceBuffer(0xA00000, 4)))
                .hasMessageContaining("sampling over 1048577 logits: at most 1048576");
    }

    @Test
    void drawsArePackedAsLittleEndianDoublesPerRow() {
        int[] words = SamplingKernels.parameters(List.of(DrawRequest.greedy(), new DrawRequest(0.7, 50, 0.9, 0.05, 0.25)));
        assertThat(words).hasSize(2 * 5 * 2);
        double[] second = new double[5];
        for (int j = 0; j < 5; j++) {
            long bits = (words[2 * (5 + j)] & 0xffffffffL) | (long) words[2 * (5 + j) + 1] << 32;
            second[j] = Double.longBitsToDouble(bits);
        }
        assertThat(second).containsExactly(0.7, 50, 0.9, 0.05, 0.25);
    }

    @Test
    void theCheckFailsOnADifferentIdAnUnwrittenRowAStrayWriteOrLogitsCopiedToTheHost() {
        int[] expected = {3, 0, 7};
        float[] written = {Float.intBitsToFloat(3), Float.intBitsToFloat(0), Float.intBitsToFloat(7)};
        assertThat(SamplingChecks.compare("s", "3x8", 1, expected, written, true, expected, 12, 1).passed()).isTrue();
        float[] wrong = {Float.intBitsToFloat(3), Float.intBitsToFloat(1), Float.intBitsToFloat(7)};
        var mismatch = SamplingChecks.compare("s", "3x8", 1, expected, wrong, true, expected, 12, 1);
        assertThat(mismatch.passed()).isFalse();
        assertThat(mismatch.detail()).contains("row 1: id 1 vs 0");
        float[] unwritten = {Float.intBitsToFloat(3), Float.NaN, Float.intBitsToFloat(7)};
        assertThat(SamplingChecks.compare("s", "3x8", 1, expected, unwritten, true, expected, 12, 1).detail())
                .contains("row 1 left unwritten");
        assertThat(SamplingChecks.compare("s", "3x8", 1, expected, written, false, expected, 12, 1).detail())
                .contains("wrote past the ids");
        assertThat(SamplingChecks.compare("s", "3x8", 1, expected, written, true, expected, 12 + 96, 1).detail())
                .contains("moved 108 bytes to the host, not 12");
    }
}
