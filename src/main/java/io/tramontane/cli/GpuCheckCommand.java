package io.tramontane.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.backend.cuda.CheckResult;
import io.tramontane.backend.cuda.GpuCheckReport;
import io.tramontane.backend.cuda.KernelChecks;
import io.tramontane.cuda.DeviceInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The one-command GPU check (docs/gpu-check.md): every CUDA check, a short table last, full JSON to --out. */
@Command(name = "gpu-check", mixinStandardHelpOptions = true,
        description = {"Run the CUDA checks on device 0 (kernels against float64 references, backend ops against the CPU",
                "backend, golden models with --shared); print a table.",
                "Exit codes: 0 all passed, 1 a check failed, 3 skipped (no usable CUDA driver or device)."})
final class GpuCheckCommand implements Callable<Integer> {
    static final int EXIT_SKIPPED = 3;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Option(names = "--out", paramLabel = "DIR", description = "Write DIR/gpu-check.json (DIR is created).")
    Path out;

    @Option(names = "--shared", paramLabel = "DIR",
            description = "Also run every golden model of DIR/golden through the CUDA backend (skipped without it).")
    Path shared;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Path golden = shared == null ? null : shared.resolve("golden");
        if (golden != null && !Files.isDirectory(golden)) throw new UsageException("--shared: no golden/ in " + shared);
        GpuCheckReport report = KernelChecks.run(golden);
        PrintWriter stdout = spec.commandLine().getOut();
        String written = "";
        if (out != null) {
            Files.createDirectories(out);
            ObjectNode json = JSON.valueToTree(report);
            json.put("java", Runtime.version().toString()).put("time", Instant.now().toString());
            Path file = out.resolve("gpu-check.json");
            JSON.writeValue(file.toFile(), json);
            written = "; JSON in " + file;
        }
        printTable(stdout, report);
        if (golden == null) stdout.println("gpu-check: golden models not checked (no --shared DIR)");
        stdout.println("gpu-check: " + report.status() + ": " + report.reason() + written);
        return switch (report.status()) {
            case GpuCheckReport.PASSED -> Main.EXIT_OK;
            case GpuCheckReport.SKIPPED -> EXIT_SKIPPED;
            default -> Main.EXIT_FAILURE;
        };
    }

    /** "pass" and the detail, or the detail alone for a section that could not run here ("skipped: ..."). */
    static String passed(String detail) {
        return detail.startsWith("skipped: ") ? detail : ("pass " + detail).strip();
    }

    private static void printTable(PrintWriter out, GpuCheckReport report) {
        DeviceInfo device = report.device();
        if (device != null) {
            out.printf(Locale.ROOT, "device %d: %s (%s, %d SMs, %.1f GiB), driver CUDA %s%n", device.ordinal(),
                    device.name(), device.smName(), device.multiprocessors(),
                    device.totalMemoryBytes() / (double) (1L << 30), report.driverVersion());
        }
        if (report.checks().isEmpty()) return;
        out.printf(Locale.ROOT, "%-26s %-22s %-11s %-8s %9s  %s%n", "check", "shape", "max rel err", "bound", "time us", "result");
        for (CheckResult check : report.checks()) {
            out.printf(Locale.ROOT, "%-26s %-22s %-11.2e %-8.0e %9.1f  %s%n", check.check(), check.shape(),
                    check.maxRelativeError(), check.bound(), check.micros(),
                    check.passed() ? passed(check.detail()) : "FAIL " + check.detail());
        }
    }
}
