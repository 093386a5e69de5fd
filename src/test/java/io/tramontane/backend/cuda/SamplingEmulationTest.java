package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.TokenDraw;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sampling kernel without a GPU: sample_rows' body (sampling_core.cuh) run by {@link KernelEmulator} on the
 * launch SamplingKernels builds, over the GPU check's batches ({@link SamplingChecks}), must give exactly the ids of
 * {@link TokenDraw}, the CPU backend's op. A variant whose warp reduction drops lanes must not. Skipped, visibly, without g++.
 */
class SamplingEmulationTest {
    @BeforeEach
    void needsGxx() {
        EmulatorBuild.assumeBuilt(KernelEmulator.binary(), "SamplingEmulationTest");
    }

    /**
     * The GPU check's mixed batches up to an odd 4099 (32768 and 131072 take the emulator a minute: the GPU check runs
     * those) and its 131072-token decode row.
     */
    static Stream<SamplingChecks.Batch> batches() {
        return Stream.of(SamplingChecks.mixed(1, 1), SamplingChecks.mixed(7, 2), SamplingChecks.mixed(4099, 3),
                SamplingChecks.single(SamplingChecks.VOCABS.getLast(), 5));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("batches")
    void theKernelDrawsTheCpuBackendsIds(SamplingChecks.Batch batch, @TempDir Path work) throws Exception {
        assertThat(emulate("sample_rows", batch, work)).containsExactly(expected(batch));
    }

    @Test
    void manyRandomDrawsOverSmallTiedVocabulariesMatch(@TempDir Path work) throws Exception {
        SplittableRandom random = new SplittableRandom(42);
        int rows = 96, vocab = 257;
        float[] logits = new float[rows * vocab];
        List<DrawRequest> draws = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            int levels = 1 + random.nextInt(40);  // few distinct values: ties at every boundary
            for (int i = 0; i < vocab; i++) logits[r * vocab + i] = (float) (random.nextInt(levels) * random.nextDouble(0.05, 0.5));
            double u = switch (r % 4) {
                case 0 -> 0;
                case 1 -> Math.nextDown(1.0);
                default -> random.nextDouble();
            };
            draws.add(new DrawRequest(r % 10 == 0 ? 0 : random.nextDouble(0.02, 3), random.nextInt(0, 2 * vocab),
                    random.nextDouble() < 0.5 ? 1 : random.nextDouble(0.001, 1), random.nextDouble() < 0.7 ? 0 : random.nextDouble(),
                    u));
        }
        SamplingChecks.Batch batch = new SamplingChecks.Batch("random", vocab, logits, draws);
        assertThat(emulate("sample_rows", batch, work)).containsExactly(expected(batch));
    }

    @Test
    void aKernelWhoseWarpSumsLoseLanesFailsTheComparison(@TempDir Path work) throws Exception {
        SamplingChecks.Batch batch = SamplingChecks.mixed(4099, 11);
        int[] broken = emulate("sample_rows_lost_peers", batch, work);
        int[] expected = expected(batch);
        long differing = IntStream.range(0, expected.length).filter(r -> broken[r] != expected[r]).count();
        assertThat(differing).as("rows whose id differs").isGreaterThan(0);
    }

    private static int[] expected(SamplingChecks.Batch batch) {
        return IntStream.range(0, batch.rows())
                .map(r -> TokenDraw.pick(batch.logits(), r * batch.vocab(), batch.vocab(), batch.draws().get(r))).toArray();
    }

    /** The ids {@code kernel} writes for the batch (poisoned ids read back as NaN bits fail the comparison). */
    private static int[] emulate(String kernel, SamplingChecks.Batch batch, Path work) throws Exception {
        KernelEmulator device = new KernelEmulator();
        CudaActivation logits = device.activation(batch.rows(), batch.vocab(), batch.logits());
        DeviceBuffer params = device.ints(SamplingKernels.parameters(batch.draws()));
        DeviceBuffer ids = device.allocate(4L * batch.rows());
        device.launch(kernel, SamplingKernels.config(batch.rows()), args -> SamplingKernels.arguments(args, logits, params, ids));
        float[] written = device.run(work, List.of(ids)).getFirst();
        return IntStream.range(0, written.length).map(r -> Float.floatToRawIntBits(written[r])).toArray();
    }
}
