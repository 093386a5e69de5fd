package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.cuda.Cuda;
import io.tramontane.weights.DType;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** CudaBackend's MoE ops against CpuBackend's ({@link MoeChecks}); skipped, with the probe's reason, without a driver. */
class MoeCudaTest {
    private static DeviceFixture device;

    @BeforeAll
    static void open() {
        device = DeviceFixture.open("MoeCudaTest");
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static List<MoeChecks.MoeShape> shapes() {
        return MoeChecks.SHAPES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void routingGatherAndCombine(MoeChecks.MoeShape shape) {
        assertPassed(new MoeChecks(device.checks()).routing(shape, BackendChecks.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void wholeFfnOnBf16Experts(MoeChecks.MoeShape shape) {
        assertPassed(new MoeChecks(device.checks()).ffn(DType.BF16, false, shape, BackendChecks.seed()));
    }

    @Test
    void everyMoeCheck() {
        var roofline = new AttentionChecks.Roofline(Double.NaN, Double.NaN);  // the timing line's percentages: n/a
        for (CheckResult result : new MoeChecks(device.checks()).all(roofline)) assertPassed(result);
    }

    private static void assertPassed(CheckResult result) {
        assertThat(result.passed()).as("%s", result).isTrue();
    }
}
