package io.tramontane.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: decode, prefill, serve (load generator), roofline (machine limits).",
        subcommands = {BenchCommand.Decode.class, BenchCommand.Prefill.class, BenchCommand.Serve.class,
                BenchCommand.Roofline.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "choose one of: decode, prefill, serve, roofline");
    }

    /** Options shared by decode and prefill. */
    static class ModelBench {
        @Option(names = "--model", description = "Checkpoint directory (or use --shape).")
        String model;
        @Option(names = "--shape", description = "Synthetic model, e.g. dim=2048,layers=16,heads=32,kv_heads=8,head_dim=64,hidden=5632,vocab=32768")
        String shape;
        @Option(names = "--dtype", defaultValue = "bf16", description = "Weight dtype of a synthetic model (default: ${DEFAULT-VALUE}).")
        String dtype;
        @Option(names = "--threads", description = "CPU threads (default: all available cores).")
        Integer threads;
        @Option(names = "--batch", defaultValue = "1", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
        int batch;
        @Option(names = "--tokens", defaultValue = "64", description = "Tokens to time (default: ${DEFAULT-VALUE}).")
        int tokens;
        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;
    }

    @Command(name = "decode", mixinStandardHelpOptions = true, description = "Decode tokens/s and achieved bandwidth.")
    static final class Decode extends ModelBench implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new NotImplementedException("bench decode", 8);
        }
    }

    @Command(name = "prefill", mixinStandardHelpOptions = true, description = "Prefill tokens/s and achieved FLOP/s.")
    static final class Prefill extends ModelBench implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new NotImplementedException("bench prefill", 8);
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, description = "Load generator for an OpenAI-compatible endpoint.")
    static final class Serve implements Callable<Integer> {
        @Option(names = "--url", defaultValue = "http://127.0.0.1:8000", description = "Base URL (default: ${DEFAULT-VALUE}).")
        String url;
        @Option(names = "--concurrency", split = ",", description = "Concurrent streams, e.g. 1,4,16.")
        int[] concurrency;
        @Option(names = "--request-rate", description = "Requests per second (Poisson arrivals) instead of fixed concurrency.")
        Double requestRate;
        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Override
        public Integer call() {
            throw new NotImplementedException("bench serve", 8);
        }
    }

    @Command(name = "roofline", mixinStandardHelpOptions = true,
            description = "Measure this machine's memory read bandwidth and FP32 FMA peak per thread count.")
    static final class Roofline implements Callable<Integer> {
        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Override
        public Integer call() {
            throw new NotImplementedException("bench roofline", 8);
        }
    }
}
