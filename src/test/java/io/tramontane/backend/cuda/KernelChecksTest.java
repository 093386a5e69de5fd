package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Percentage.withPercentage;

import io.tramontane.backend.cuda.KernelChecks.Shape;
import io.tramontane.cuda.Cuda;
import io.tramontane.cuda.DeviceInfo;
import org.junit.jupiter.api.Test;

/** The comparison the GPU checks rely on, and the report without a driver. No GPU needed. */
class KernelChecksTest {
    private static final Shape SHAPE = new Shape(1, 3);
    private static final double[] REFERENCE = {1.0, -2.0, 0.5};

    private static float[] withGuard(float... output) {
        float[] out = new float[output.length + 2];
        System.arraycopy(output, 0, out, 0, output.length);
        out[output.length] = out[output.length + 1] = Float.intBitsToFloat(0x7fc00000);
        return out;
    }

    @Test
    void passesWithinTheFp32Bound() {
        CheckResult result = KernelChecks.compare("k", SHAPE, 1, withGuard(1.000001f, -2f, 0.5f), REFERENCE, 3.0);
        assertThat(result.passed()).as(result.detail()).isTrue();
        assertThat(result.maxRelativeError()).isBetween(5e-7, 2e-6);
    }

    @Test
    void aLeftoverPoisonFails() {
        CheckResult result = KernelChecks.compare("k", SHAPE, 1, withGuard(1f, Float.NaN, 0.5f), REFERENCE, 3.0);
        assertThat(result.passed()).isFalse();
        assertThat(result.detail()).contains("element 1 is NaN");
    }

    @Test
    void aWritePastTheOutputFails() {
        float[] out = withGuard(1f, -2f, 0.5f);
        out[4] = 0f;
        CheckResult result = KernelChecks.compare("k", SHAPE, 1, out, REFERENCE, 3.0);
        assertThat(result.passed()).isFalse();
        assertThat(result.detail()).contains("wrote past the output, at element 4");
    }

    @Test
    void anErrorAboveTheBoundFailsNamingTheElement() {
        CheckResult result = KernelChecks.compare("k", SHAPE, 1, withGuard(1f, -2f, 0.5001f), REFERENCE, 3.0);
        assertThat(result.passed()).isFalse();
        assertThat(result.detail()).startsWith("element 2:");
    }

    @Test
    void problemsSpanMagnitudesAndAreReproducible() {
        KernelChecks.Problem a = KernelChecks.Problem.random(new Shape(4, 100), 42), b = KernelChecks.Problem.random(new Shape(4, 100), 42);
        assertThat(a.x()).containsExactly(b.x());
        double row0 = Math.abs(a.x()[0]) + Math.abs(a.x()[1]), row3 = Math.abs(a.x()[300]) + Math.abs(a.x()[301]);
        assertThat(row3).isLessThan(row0 / 10);
    }

    @Test
    void theBf16PeakIsSmsTimesClockTimesTheTensorRate() {
        var h100 = new DeviceInfo(0, "H100", 9, 0, 132, 80L << 30, 232448, 2619000, 5120, 50 << 20);
        assertThat(KernelChecks.bf16Peak(h100, 1_830_000)).isCloseTo(989.4e12, withPercentage(0.1));
        var b200 = new DeviceInfo(0, "B200", 10, 0, 148, 180L << 30, 232448, 3996000, 8192, 126 << 20);
        assertThat(KernelChecks.bf16Peak(b200, 1_965_000)).isCloseTo(2.38e15, withPercentage(0.5));
        var ada = new DeviceInfo(0, "L4", 8, 9, 58, 24L << 30, 101376, 6251000, 192, 48 << 20);
        assertThat(KernelChecks.bf16Peak(ada, 2_040_000)).isNaN();
    }

    @Test
    void withoutADriverTheRunIsSkippedWithTheReason() {
        GpuCheckReport report = KernelChecks.run();
        if (Cuda.available()) {
            assertThat(report.status()).as(report.toString()).isEqualTo(GpuCheckReport.PASSED);
        } else {
            assertThat(report.status()).isEqualTo(GpuCheckReport.SKIPPED);
            assertThat(report.reason()).isEqualTo("no CUDA driver: " + Cuda.probe().reason());
            assertThat(report.checks()).isEmpty();
        }
    }
}
