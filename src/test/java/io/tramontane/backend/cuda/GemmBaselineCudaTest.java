package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.cuda.CublasLtProbe;
import io.tramontane.cuda.Cuda;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * cuBLASLt against the CPU and our linear against cuBLASLt ({@link GemmBaselineChecks}) on the device; skipped, with
 * the reason, without a driver or without cuBLASLt. The same rows gpu-check prints (every projection, about a minute).
 */
class GemmBaselineCudaTest {
    private static DeviceFixture device;

    @BeforeAll
    static void open() {
        device = DeviceFixture.open("GemmBaselineCudaTest",
                backend -> CublasLtProbe.probe().available() ? null : CublasLtProbe.probe().reason());
    }

    @AfterAll
    static void close() {
        device.close();
    }

    @Test
    void theOracleAgreesWithTheCpuAndOurLinearWithTheOracle() {
        List<CheckResult> results = GemmBaselineChecks.all(device.checks());
        assertThat(results).isNotEmpty();
        for (CheckResult r : results) {
            assertThat(r.passed()).as("%s %s seed %d: %s", r.check(), r.shape(), r.seed(), r.detail()).isTrue();
        }
    }
}
