package io.tramontane.backend.cuda;

import io.tramontane.cuda.CudaProbe;
import io.tramontane.cuda.DeviceInfo;
import java.util.List;

/**
 * The outcome of {@link KernelChecks#run()}: {@code passed} (every check passed), {@code failed}, or
 * {@code skipped} (no usable CUDA driver here; {@code reason} says why).
 *
 * @param device the checked device, null when skipped or when opening it failed
 */
public record GpuCheckReport(String status, String reason, String driverVersion, DeviceInfo device,
                             List<CheckResult> checks) {
    public static final String PASSED = "passed", FAILED = "failed", SKIPPED = "skipped";

    static GpuCheckReport skipped(CudaProbe probe) {
        return new GpuCheckReport(SKIPPED, "no CUDA driver: " + probe.reason(), probe.driverVersionText(), null, List.of());
    }

    static GpuCheckReport of(CudaProbe probe, DeviceInfo device, List<CheckResult> checks, String failure) {
        long failed = checks.stream().filter(check -> !check.passed()).count();
        long skipped = checks.stream().filter(CheckResult::skipped).count();
        String reason = failure != null ? failure
                : failed > 0 ? failed + " of " + checks.size() + " checks failed"
                : "all " + (checks.size() - skipped) + " checks passed" + (skipped > 0 ? ", " + skipped + " skipped" : "");
        boolean passed = failure == null && failed == 0 && !checks.isEmpty();
        return new GpuCheckReport(passed ? PASSED : FAILED, reason, probe.driverVersionText(), device, List.copyOf(checks));
    }
}
