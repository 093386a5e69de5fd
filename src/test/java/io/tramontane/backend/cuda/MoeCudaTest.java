package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tramontane.cuda.Cuda;
import io.tramontane.weights.DType;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** CudaBackend's MoE ops against CpuBackend's ({@link MoeChecks}); skipped, with the probe's reason, without a driver. */
class MoeCudaTest {
    private static CudaBackend backend;
    private static BackendChecks checks;

    @BeforeAll
    static void open() {
        if (!Cuda.available()) {
            System.err.println("SKIPPED: MoeCudaTest: no CUDA driver: " + Cuda.probe().reason());
            return;
        }
        backend = CudaBackend.open(CudaBackend.Options.defaults());
        checks = new BackendChecks(backend);
    }

    @BeforeEach
    void needsTheDevice() {
        assumeTrue(checks != null, () -> "no CUDA driver: " + Cuda.probe().reason());
    }

    @AfterAll
    static void close() {
        if (checks != null) checks.close();
        if (backend != null) backend.close();
    }

    static List<MoeChecks.MoeShape> shapes() {
        return MoeChecks.SHAPES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void routingGatherAndCombine(MoeChecks.MoeShape shape) {
        assertPassed(new MoeChecks(checks).routing(shape, BackendChecks.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void wholeFfnOnBf16Experts(MoeChecks.MoeShape shape) {
        assertPassed(new MoeChecks(checks).ffn(DType.BF16, false, shape, BackendChecks.seed()));
    }

    @Test
    void everyMoeCheck() {
        var roofline = new AttentionChecks.Roofline(Double.NaN, Double.NaN);  // the timing line's percentages: n/a
        for (CheckResult result : new MoeChecks(checks).all(roofline)) assertPassed(result);
    }

    private static void assertPassed(CheckResult result) {
        assertThat(result.passed()).as("%s", result).isTrue();
    }
}
