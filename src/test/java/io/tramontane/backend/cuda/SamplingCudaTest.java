package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.cuda.Cuda;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** CudaBackend.sample against CpuBackend.sample ({@link SamplingChecks}); skipped, with the probe's reason, without a driver. */
class SamplingCudaTest {
    private static DeviceFixture device;

    @BeforeAll
    static void open() {
        device = DeviceFixture.open("SamplingCudaTest");
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static List<Integer> vocabs() {
        return SamplingChecks.VOCABS;
    }

    @ParameterizedTest(name = "vocab {0}")
    @MethodSource("vocabs")
    void mixedBatchGivesTheCpuIdsAndMovesOnlyIds(int vocab) {
        long seed = BackendChecks.seed();
        CheckResult result = new SamplingChecks(device.checks()).check(SamplingChecks.mixed(vocab, seed), seed);
        assertThat(result.passed()).as("%s", result).isTrue();
    }

    @Test
    void decodeShapedRow() {
        long seed = BackendChecks.seed();
        CheckResult result = new SamplingChecks(device.checks()).check(SamplingChecks.single(131072, seed), seed);
        assertThat(result.passed()).as("%s", result).isTrue();
    }
}
