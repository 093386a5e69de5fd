package io.tramontane.cli;

import io.tramontane.bench.BenchJson;
import io.tramontane.bench.BenchModel;
import io.tramontane.bench.DecodeBench;
import io.tramontane.bench.RooflineCache;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Decode tokens/s, weight bytes per token and achieved bandwidth (fraction of 'bench roofline').")
final class BenchDecodeCommand implements Callable<Integer> {
    @Mixin
    BenchModelOptions modelOptions;
    @Option(names = "--context", defaultValue = "0", paramLabel = "POSITIONS", description = "Positions of each sequence "
            + "filled first (untimed prefill), as llama-bench's depth: decode then attends over them (default: ${DEFAULT-VALUE}).")
    int context;
    @Option(names = "--tokens", defaultValue = "32", description = "Timed steps; each gives --batch tokens (default: ${DEFAULT-VALUE}).")
    int tokens;
    @Option(names = "--warmup", defaultValue = "12",
            description = "Untimed steps first: the JIT, and on CUDA the graph trial's 10 steps (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--settle", defaultValue = "30", paramLabel = "SECONDS",
            description = "After the warm-up steps, up to this long more until the JIT has nothing left to compile (its "
                    + "compiles would share the cores with the timed steps); 0: no more (default: ${DEFAULT-VALUE}).")
    double settle;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        int threads = modelOptions.threads();
        DecodeBench.Settings settings;
        try {
            settings = new DecodeBench.Settings(threads, modelOptions.batch, context, tokens, warmup, settle, modelOptions.seed,
                    modelOptions.cpuWeights(), modelOptions.kvCache(), modelOptions.backend);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        DecodeBench.Result r;
        try (BenchModel model = modelOptions.open()) {
            r = modelOptions.backend.equals("cuda") ? DecodeBench.run(model, settings, (Double) null)
                    : DecodeBench.run(model, settings, RooflineCache.read());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (modelOptions.json) {
            out.println(BenchJson.write(r));
            return Main.EXIT_OK;
        }
        out.printf("decode %s %s [%s] on %s, %s KV cache, %d threads, batch %d, %d steps from position %d after %d warm-up "
                        + "(%s), load average %.2f%n",
                r.model(), BenchModelOptions.weights(r.dtype(), r.cpuWeights()), r.shape(), r.backend(), r.kvCache(), r.threads(),
                r.batch(), r.tokens(), r.contextStart(), r.warmupSteps(), r.jitSettled() ? "JIT idle" : "JIT not seen idle",
                r.machine().loadAverage());
        if (r.jitMillisTimed() > 0) out.printf("  the JIT compiled for %d ms during the timed steps%n", r.jitMillisTimed());
        out.printf("  weights on the backend in %.1f s%s%n", r.loadSeconds(), r.hugePageBytes() < 0 ? ""
                : String.format("; %.0f MB of the process on 2 MB pages", r.hugePageBytes() / 1e6));
        out.printf("  %.2f tokens/s (%.1f ms per step, median), %.1f MB of weights per step, %.1f MB per token, %.1f MB of "
                        + "KV cache per step%n", r.tokensPerSecond(), r.stepMillisP50(), r.weightBytesPerStep() / 1e6,
                r.weightBytesPerToken() / 1e6, r.kvBytesPerStep() / 1e6);
        out.printf("  %.2f GB/s achieved%s%n", r.achievedGbPerSecond(), r.rooflineFraction() == null
                ? (modelOptions.backend.equals("cuda") ? " ('tramontane gpu-check' measures the device's read bandwidth)"
                        : " (run 'tramontane bench roofline' for the fraction of bandwidth)")
                : String.format(" = %.1f%% of %.1f GB/s measured read bandwidth", 100 * r.rooflineFraction(),
                        r.rooflineGbPerSecond()));
        return Main.EXIT_OK;
    }
}
