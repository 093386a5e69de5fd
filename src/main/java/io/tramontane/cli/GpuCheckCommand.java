package io.tramontane.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.backend.cuda.CheckResult;
import io.tramontane.backend.cuda.CheckSection;
import io.tramontane.backend.cuda.GpuCheckReport;
import io.tramontane.backend.cuda.KernelChecks;
import io.tramontane.cuda.DeviceInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
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

    @Option(names = "--only", paramLabel = "SECTION[,SECTION...]",
            description = {"Run only these sections (the kernel basics always run): ops, attention, gemm, sampling, moe,",
                    "cublaslt, golden, graphs, tp, devstral. Default: all."})
    String only;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Path golden = shared == null ? null : shared.resolve("golden");
        if (golden != null && !Files.isDirectory(golden)) throw new UsageException("--shared: no golden/ in " + shared);
        Set<CheckSection> sections;
        try {
            sections = CheckSection.parse(only);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        PrintWriter stdout = spec.commandLine().getOut();
        if (out != null) Files.createDirectories(out);
        List<CheckResult> done = new ArrayList<>();
        // each result as it comes, and the JSON so far: a run cut short by a time limit still leaves its evidence
        GpuCheckReport report = KernelChecks.run(golden, sections, result -> {
            done.add(result);
            stdout.println("gpu-check [" + done.size() + "] " + row(result));
            stdout.flush();
            if (out != null) writeJson(new GpuCheckReport("running", done.size() + " checks so far", null, null, List.copyOf(done)));
        });
        String written = "";
        if (out != null) written = "; JSON in " + writeJson(report);
        printTable(stdout, report);
        if (golden == null) stdout.println("gpu-check: golden models not checked (no --shared DIR)");
        stdout.println("gpu-check: " + report.status() + ": " + report.reason() + written);
        return switch (report.status()) {
            case GpuCheckReport.PASSED -> Main.EXIT_OK;
            case GpuCheckReport.SKIPPED -> EXIT_SKIPPED;
            default -> Main.EXIT_FAILURE;
        };
    }

    /** Writes {@code report} (with the Java version and the time) to OUT/gpu-check.json; its path. */
    private Path writeJson(GpuCheckReport report) {
        ObjectNode json = JSON.valueToTree(report);
        json.put("java", Runtime.version().toString()).put("time", Instant.now().toString());
        Path file = out.resolve("gpu-check.json");
        try {
            JSON.writeValue(file.toFile(), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    /** One check as a line of the table. */
    static String row(CheckResult check) {
        return String.format(Locale.ROOT, "%-26s %-22s %-11.2e %-8.0e %9.1f  %s", check.check(), check.shape(),
                check.maxRelativeError(), check.bound(), check.micros(),
                check.skipped() ? "skip " + check.detail().substring(CheckResult.SKIPPED.length())
                        : check.passed() ? ("pass " + check.detail()).strip() : "FAIL " + check.detail());
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
        for (CheckResult check : report.checks()) out.println(row(check));
    }
}
