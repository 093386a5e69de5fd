package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tramontane.backend.cuda.KernelChecks.Shape;
import io.tramontane.cuda.Cuda;
import io.tramontane.cuda.CudaContext;
import io.tramontane.cuda.CudaProbe;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** rmsnorm_f32 on the GPU against the float64 reference; skipped, with the probe's reason, without a driver. */
class RmsNormCudaTest {
    private static CudaContext context;
    private static KernelModule module;
    private static KernelChecks checks;

    @BeforeAll
    static void openDevice() {
        CudaProbe probe = Cuda.probe();
        if (!probe.available()) {
            System.err.println("SKIPPED: RmsNormCudaTest: no CUDA driver: " + probe.reason());
            return;
        }
        context = CudaContext.open(Cuda.driver(), 0);
        module = KernelModule.load(Cuda.driver());
        checks = new KernelChecks(context, module);
    }

    /** Per test, so each one is reported as skipped with the reason (a class-level abort counts as nothing). */
    @BeforeEach
    void needsTheDevice() {
        assumeTrue(checks != null, () -> "no CUDA driver: " + Cuda.probe().reason());
    }

    @AfterAll
    static void closeDevice() {
        if (module != null) module.close();
        if (context != null) context.close();
    }

    static List<Shape> shapes() {
        return KernelChecks.RMSNORM_SHAPES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void matchesTheFloat64Reference(Shape shape) {
        assertPassed(checks.rmsnorm(shape, KernelChecks.seed()));
    }

    @Test
    void aCapturedGraphReplaysOnFreshInputs() {
        assertPassed(checks.rmsnormGraph(new Shape(3, 4096), KernelChecks.seed()));
    }

    @Test
    void memoryRoundTrips() {
        assertPassed(checks.memoryRoundTrip(KernelChecks.seed()));
    }

    private static void assertPassed(CheckResult result) {
        assertThat(result.passed()).as("%s", result).isTrue();
    }
}
