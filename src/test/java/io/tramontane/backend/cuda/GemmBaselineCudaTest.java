package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tramontane.cuda.CublasLtProbe;
import io.tramontane.cuda.Cuda;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * cuBLASLt against the CPU and our linear against cuBLASLt ({@link GemmBaselineChecks}) on the device; skipped, with
 * the reason, without a driver or without cuBLASLt. The same rows gpu-check prints (every projection, about a minute).
 */
class GemmBaselineCudaTest {
    private static CudaBackend backend;
    private static BackendChecks ops;

    @BeforeAll
    static void open() {
        if (!Cuda.available()) {
            System.err.println("SKIPPED: GemmBaselineCudaTest: no CUDA driver: " + Cuda.probe().reason());
            return;
        }
        if (!CublasLtProbe.probe().available()) {
            System.err.println("SKIPPED: GemmBaselineCudaTest: " + CublasLtProbe.probe().reason());
            return;
        }
        backend = CudaBackend.open(CudaBackend.Options.defaults());
        ops = new BackendChecks(backend);
    }

    @BeforeEach
    void needsTheDeviceAndCublasLt() {
        assumeTrue(ops != null, () -> Cuda.available() ? CublasLtProbe.probe().reason() : "no CUDA driver: " + Cuda.probe().reason());
    }

    @AfterAll
    static void close() {
        if (ops != null) ops.close();
        if (backend != null) backend.close();
    }

    @Test
    void theOracleAgreesWithTheCpuAndOurLinearWithTheOracle() {
        List<CheckResult> results = GemmBaselineChecks.all(ops);
        assertThat(results).isNotEmpty();
        for (CheckResult r : results) {
            assertThat(r.passed()).as("%s %s seed %d: %s", r.check(), r.shape(), r.seed(), r.detail()).isTrue();
        }
    }
}
