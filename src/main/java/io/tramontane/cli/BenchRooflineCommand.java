package io.tramontane.cli;

import io.tramontane.bench.BenchJson;
import io.tramontane.bench.Roofline;
import io.tramontane.bench.RooflineCache;
import io.tramontane.cuda.Cuda;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "roofline", mixinStandardHelpOptions = true,
        description = "Measure this machine's memory read bandwidth and FP32 FMA peak per thread count; "
                + "saves them for decode and prefill to report fractions.")
final class BenchRooflineCommand implements Callable<Integer> {
    @Option(names = "--threads", split = ",", description = "Thread counts to measure (default: 1 to all cores).")
    int[] threads;
    @Option(names = "--buffer-mib", defaultValue = "1024",
            description = "Buffer streamed for bandwidth, MiB; must dwarf the last-level cache (default: ${DEFAULT-VALUE}).")
    int bufferMib;
    @Option(names = "--runs", defaultValue = "5", description = "Runs per measurement, best kept (default: ${DEFAULT-VALUE}).")
    int runs;
    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        int[] counts = threads != null ? threads : IntStream.rangeClosed(1, Runtime.getRuntime().availableProcessors()).toArray();
        if (Arrays.stream(counts).anyMatch(t -> t < 1) || bufferMib < 1 || runs < 1) {
            throw new UsageException("--threads, --buffer-mib and --runs must be >= 1");
        }
        // the device's copy bandwidth and tensor-core peak are the CUDA backend's to measure
        String gpu = Cuda.available() ? "GPU found; its roofline is not measured yet" : "no GPU";
        Roofline roofline = Roofline.measure(counts, (long) bufferMib << 20, runs, gpu);
        RooflineCache.write(roofline);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(BenchJson.write(roofline));
            return Main.EXIT_OK;
        }
        var m = roofline.machine();
        out.printf("Roofline of %s (%d cores, %d-bit vectors, Java %s), load average %.2f, %d MiB buffer%n",
                m.cpu(), m.cores(), m.vectorBits(), m.java(), m.loadAverage(), roofline.readBufferBytes() >> 20);
        out.printf("%8s %12s %14s%n", "threads", "read GB/s", "FP32 GFLOP/s");
        for (Roofline.Point p : roofline.points()) {
            out.printf("%8d %12.1f %14.1f%n", p.threads(), p.readGbPerSecond(), p.fmaGflops());
        }
        out.println("GPU: " + roofline.gpu());
        out.println("saved to " + RooflineCache.file());
        return Main.EXIT_OK;
    }
}
