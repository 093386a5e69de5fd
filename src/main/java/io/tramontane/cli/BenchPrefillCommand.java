package io.tramontane.cli;

import io.tramontane.bench.BenchJson;
import io.tramontane.bench.BenchModel;
import io.tramontane.bench.PrefillBench;
import io.tramontane.bench.RooflineCache;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "prefill", mixinStandardHelpOptions = true,
        description = "Prefill tokens/s and achieved GFLOP/s (fraction of the FMA peak of 'bench roofline').")
final class BenchPrefillCommand implements Callable<Integer> {
    @Mixin
    BenchModelOptions modelOptions;
    @Option(names = "--prompt", defaultValue = "512", description = "Prompt tokens per sequence (default: ${DEFAULT-VALUE}).")
    int prompt;
    @Option(names = "--runs", defaultValue = "1", description = "Timed prefills, best kept (default: ${DEFAULT-VALUE}).")
    int runs;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        int threads = modelOptions.threads();
        PrefillBench.Settings settings;
        try {
            settings = new PrefillBench.Settings(threads, modelOptions.batch, prompt, runs, modelOptions.seed,
                    modelOptions.cpuWeights(), modelOptions.kvCache(), modelOptions.backend);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        PrefillBench.Result r;
        try (BenchModel model = modelOptions.open()) {
            r = modelOptions.backend.equals("cuda") ? PrefillBench.run(model, settings, (Double) null)
                    : PrefillBench.run(model, settings, RooflineCache.read());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (modelOptions.json) {
            out.println(BenchJson.write(r));
            return Main.EXIT_OK;
        }
        out.printf("prefill %s %s [%s] on %s, %s KV cache, %d threads, %d x %d tokens, best of %d, load average %.2f%n",
                r.model(), BenchModelOptions.weights(r.dtype(), r.cpuWeights()), r.shape(), r.backend(), r.kvCache(), r.threads(),
                r.batch(),
                r.prompt(), r.runSeconds().length,
                r.machine().loadAverage());
        out.printf("  %.1f tokens/s (%.2f s), %.1f GFLOP/s%s%n", r.tokensPerSecond(), r.seconds(), r.gflopsPerSecond(),
                r.rooflineFraction() == null ? (r.backend().equals("cuda") ? " ('tramontane gpu-check' measures the device's peak)"
                        : " (run 'tramontane bench roofline' for the fraction of FMA peak)")
                        : String.format(" = %.1f%% of %.1f GFLOP/s measured FMA peak", 100 * r.rooflineFraction(),
                                r.rooflineGflops()));
        return Main.EXIT_OK;
    }
}
