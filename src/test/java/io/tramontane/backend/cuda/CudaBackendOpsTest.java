package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.cuda.Cuda;
import io.tramontane.engine.GoldenChecks;
import io.tramontane.testing.SharedFixtures;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every CudaBackend op against CpuBackend ({@link BackendChecks}), and every golden model through the CUDA
 * backend ({@link GoldenChecks}); skipped, with the probe's reason, without a driver.
 */
class CudaBackendOpsTest {
    private static DeviceFixture device;

    @BeforeAll
    static void open() {
        device = DeviceFixture.open("CudaBackendOpsTest");
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static List<BackendChecks.LinearShape> linearShapes() {
        return BackendChecks.LINEAR_SHAPES;
    }

    static List<AttentionChecks.AttentionShape> attentionShapes() {
        return AttentionChecks.SHAPES;
    }

    static List<AttentionChecks.AttentionShape> longAttentionShapes() {
        return AttentionChecks.LONG_SHAPES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("linearShapes")
    void linear(BackendChecks.LinearShape shape) {
        assertPassed(device.checks().linear(shape, BackendChecks.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attentionShapes")
    void attention(AttentionChecks.AttentionShape shape) {
        assertPassed(new AttentionChecks(device.checks()).mixed(shape, BackendChecks.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("longAttentionShapes")
    void attentionOverLongContexts(AttentionChecks.AttentionShape shape) {
        assertPassed(new AttentionChecks(device.checks()).longContext(shape, BackendChecks.seed()));
    }

    @Test
    void everyOtherOp() {
        for (CheckResult result : device.checks().all()) assertPassed(result);
    }

    @Test
    void goldenModels() {
        device.require();
        List<CheckResult> results = GoldenChecks.cuda(SharedFixtures.resolve("golden"));
        assertThat(results).isNotEmpty();
        results.forEach(CudaBackendOpsTest::assertPassed);
    }

    private static void assertPassed(CheckResult result) {
        assertThat(result.passed()).as("%s", result).isTrue();
    }
}
