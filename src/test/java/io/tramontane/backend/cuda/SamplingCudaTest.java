package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tramontane.cuda.Cuda;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** CudaBackend.sample against CpuBackend.sample ({@link SamplingChecks}); skipped, with the probe's reason, without a driver. */
class SamplingCudaTest {
    private static CudaBackend backend;
    private static BackendChecks ops;

    @BeforeAll
    static void open() {
        if (!Cuda.available()) {
            System.err.println("SKIPPED: SamplingCudaTest: no CUDA driver: " + Cuda.probe().reason());
            return;
        }
        backend = CudaBackend.open(CudaBackend.Options.defaults());
        ops = new BackendChecks(backend);
    }

    @BeforeEach
    void needsTheDevice() {
        assumeTrue(ops != null, () -> "no CUDA driver: " + Cuda.probe().reason());
    }

    @AfterAll
    static void close() {
        if (ops != null) ops.close();
        if (backend != null) backend.close();
    }

    static List<Integer> vocabs() {
        return SamplingChecks.VOCABS;
    }

    @ParameterizedTest(name = "vocab {0}")
    @MethodSource("vocabs")
    void mixedBatchGivesTheCpuIdsAndMovesOnlyIds(int vocab) {
        long seed = BackendChecks.seed();
        CheckResult result = new SamplingChecks(ops).check(SamplingChecks.mixed(vocab, seed), seed);
        assertThat(result.passed()).as("%s", result).isTrue();
    }

    @Test
    void decodeShapedRow() {
        long seed = BackendChecks.seed();
        CheckResult result = new SamplingChecks(ops).check(SamplingChecks.single(131072, seed), seed);
        assertThat(result.passed()).as("%s", result).isTrue();
    }
}
