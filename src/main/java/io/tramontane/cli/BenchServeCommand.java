package io.tramontane.cli;

import io.tramontane.bench.BenchJson;
import io.tramontane.bench.LatencyPlot;
import io.tramontane.bench.LengthRange;
import io.tramontane.bench.LoadGenerator;
import io.tramontane.bench.LoadLevel;
import io.tramontane.bench.Machine;
import io.tramontane.bench.ServeReport;
import io.tramontane.bench.ServeWorkload;
import io.tramontane.bench.StreamingClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Load generator for any OpenAI-compatible endpoint: throughput, TTFT, inter-token and "
                + "end-to-end latency (p50/p90/p99) per concurrency or request rate; JSON and an SVG plot.")
final class BenchServeCommand implements Callable<Integer> {
    @Option(names = "--url", defaultValue = "http://127.0.0.1:8000", description = "Server root (default: ${DEFAULT-VALUE}).")
    String url;
    @Option(names = "--model", description = "Model name to request (default: the first of GET /v1/models).")
    String model;
    @Option(names = "--api-key", description = "Sent as 'Authorization: Bearer KEY'.")
    String apiKey;
    @Option(names = "--endpoint", defaultValue = "completions", description = "completions or chat (default: ${DEFAULT-VALUE}).")
    String endpoint;
    @Option(names = "--concurrency", split = ",", description = "Streams in flight per level, e.g. 1,4,16 (default: 1,4,16).")
    int[] concurrency;
    @Option(names = "--request-rate", split = ",", description = "Poisson arrivals per second per level instead, e.g. 0.5,2.")
    double[] requestRate;
    @Option(names = "--requests", defaultValue = "32", description = "Requests per level (default: ${DEFAULT-VALUE}).")
    int requests;
    @Option(names = "--prompt-tokens", defaultValue = "128", description = "Prompt length in words (~tokens): N or MIN:MAX (default: ${DEFAULT-VALUE}).")
    String promptTokens;
    @Option(names = "--output-tokens", defaultValue = "64", description = "max_tokens: N or MIN:MAX (default: ${DEFAULT-VALUE}).")
    String outputTokens;
    @Option(names = "--dataset", description = "JSON lines with {\"prompt\": ...} to use instead of random prompts.")
    Path dataset;
    @Option(names = "--ignore-eos", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Ask for exactly max_tokens (vLLM and Tramontane; OpenAI refuses it) (default: ${DEFAULT-VALUE}).")
    boolean ignoreEos;
    @Option(names = "--warmup", defaultValue = "2", description = "Untimed requests first (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--timeout", defaultValue = "600", description = "Seconds per request (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;
    @Option(names = "--seed", defaultValue = "1", description = "Seed of prompts, lengths and arrivals (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--out", description = "Directory for serve.json and serve.svg.")
    Path out;
    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (concurrency != null && requestRate != null) throw new UsageException("give --concurrency or --request-rate, not both");
        if (requests < 1 || warmup < 0 || timeoutSeconds < 1) throw new UsageException("--requests and --timeout must be >= 1, --warmup >= 0");
        if (concurrency != null && Arrays.stream(concurrency).anyMatch(c -> c < 1)) throw new UsageException("--concurrency must be >= 1");
        if (requestRate != null && Arrays.stream(requestRate).anyMatch(r -> !(r > 0))) throw new UsageException("--request-rate must be > 0");
        LengthRange prompt, output;
        try {
            prompt = LengthRange.parse(promptTokens);
            output = LengthRange.parse(outputTokens);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--prompt-tokens/--output-tokens: " + e.getMessage());
        }
        ServeWorkload workload = dataset != null ? ServeWorkload.dataset(dataset, output, seed)
                : ServeWorkload.synthetic(prompt, output, seed);
        var kind = switch (endpoint) {
            case "completions" -> StreamingClient.Endpoint.COMPLETIONS;
            case "chat" -> StreamingClient.Endpoint.CHAT;
            default -> throw new UsageException("--endpoint must be completions or chat, got '" + endpoint + "'");
        };
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        String modelName = model != null ? model
                : StreamingClient.firstModel(new StreamingClient.Target(url, null, apiKey, kind, ignoreEos, timeout));
        var target = new StreamingClient.Target(url, modelName, apiKey, kind, ignoreEos, timeout);

        PrintWriter console = spec.commandLine().getOut();
        List<LoadLevel> levels = new ArrayList<>();
        try (var client = new StreamingClient(target)) {
            var generator = new LoadGenerator(client, workload);
            generator.warmUp(warmup);
            if (requestRate != null) {
                for (int i = 0; i < requestRate.length; i++) levels.add(progress(generator.atRate(requestRate[i], requests, seed + i)));
            } else {
                for (int c : concurrency != null ? concurrency : new int[] {1, 4, 16}) levels.add(progress(generator.atConcurrency(c, requests)));
            }
        }
        var report = new ServeReport(target.baseUrl(), target.model(), kind.name().toLowerCase(Locale.ROOT),
                dataset == null ? prompt.toString() : null, output.toString(), dataset == null ? null : dataset.toString(),
                requests, Machine.now(), levels);
        if (out != null) {
            Files.createDirectories(out);
            Files.writeString(out.resolve("serve.json"), BenchJson.write(report));
            Files.writeString(out.resolve("serve.svg"), LatencyPlot.svg(report));
        }
        if (json) console.println(BenchJson.write(report));
        else print(report, console);
        return levels.stream().allMatch(l -> l.errors() == l.requests()) ? Main.EXIT_FAILURE : Main.EXIT_OK;
    }

    /** One line per finished level on stderr, so a long sweep shows it is alive without mixing into --json. */
    private LoadLevel progress(LoadLevel level) {
        spec.commandLine().getErr().printf("bench serve: %s done, %d/%d ok in %.1f s%n", level.label(),
                level.requests() - level.errors(), level.requests(), level.seconds());
        return level;
    }

    private void print(ServeReport r, PrintWriter out) {
        out.printf("bench serve %s model %s (%s), prompt %s, output %s, %d requests per level, load average %.2f%n",
                r.url(), r.model(), r.endpoint(), r.dataset() != null ? r.dataset() : r.promptTokens() + " words",
                r.outputTokens(), r.requestsPerLevel(), r.machine().loadAverage());
        out.printf("%-12s %6s %8s %9s %17s %17s %19s%n", "level", "errors", "req/s", "out tok/s",
                "TTFT p50/p99 ms", "ITL p50/p99 ms", "latency p50/p99 ms");
        for (LoadLevel l : r.levels()) {
            out.printf("%-12s %6d %8.2f %9.1f %8.1f/%-8.1f %8.1f/%-8.1f %9.1f/%-9.1f%n", l.label(), l.errors(),
                    l.requestsPerSecond(), l.outputTokensPerSecond(), l.ttftMs().p50(), l.ttftMs().p99(),
                    l.interTokenMs().p50(), l.interTokenMs().p99(), l.latencyMs().p50(), l.latencyMs().p99());
            if (!l.errorSamples().isEmpty()) out.println("  first errors: " + l.errorSamples());
        }
        if (this.out != null) out.println("wrote " + this.out.resolve("serve.json") + " and serve.svg");
    }
}
