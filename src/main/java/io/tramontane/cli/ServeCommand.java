package io.tramontane.cli;

import io.tramontane.api.Tramontane;
import io.tramontane.weights.Progress;
import io.tramontane.server.OpenAiServer;
import io.tramontane.server.SamplingDefaults;
import io.tramontane.server.ServerOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over an OpenAI-compatible HTTP API (see docs/server.md).")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host;
    @Option(names = "--port", defaultValue = "8000", description = "Port to listen on (default: ${DEFAULT-VALUE}).")
    int port;
    @Option(names = "--api-key", defaultValue = "${env:TRAMONTANE_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' on /v1/* (default: $TRAMONTANE_API_KEY; none: open).")
    String apiKey;
    @Option(names = "--preload", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Read every weight file into memory before serving, with a progress bar (default: on).")
    boolean preload;
    @Option(names = "--max-sequences", defaultValue = "16",
            description = "Sequences decoded together; more requests wait their turn (default: ${DEFAULT-VALUE}).")
    int maxSequences;
    @Option(names = "--default-temperature",
            description = "Temperature of requests that set none (default: the checkpoint's generation_config.json,"
                    + " else 0.15 for Devstral models, else 1).")
    Double defaultTemperature;
    @Option(names = "--max-body-bytes", defaultValue = "4194304",
            description = "Largest request body; larger ones get 413 (default: ${DEFAULT-VALUE}).")
    long maxBodyBytes;
    @Option(names = "--request-timeout", defaultValue = "600",
            description = "Seconds a request may run before it is cancelled (default: ${DEFAULT-VALUE}).")
    long requestTimeoutSeconds;
    @Option(names = "--drain-timeout", defaultValue = "30",
            description = "Seconds SIGTERM waits for in-flight requests (default: ${DEFAULT-VALUE}).")
    long drainTimeoutSeconds;
    @Option(names = "--cors-origin",
            description = "Allow browsers from this origin ('*' for any); default: no CORS headers.")
    String corsOrigin;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (maxSequences < 1) throw new UsageException("--max-sequences must be >= 1, got " + maxSequences);
        if (requestTimeoutSeconds < 1) throw new UsageException("--request-timeout must be >= 1 s");
        PrintWriter out = spec.commandLine().getOut();

        Tramontane.Options defaults = Tramontane.Options.defaults();
        Tramontane model = modelOptions.open(defaults.withScheduling(maxSequences, defaults.maxBatchedTokens(), defaults.prefixCaching()));
        if (preload) model.preload(Progress.bar(System.err, "loading " + model.name(), model.weightFileBytes()));
        var warm = model.warmUp();
        System.err.printf("warm-up: %d one-token steps in %.1f s after the prefills, JIT %s%n", warm.steps(), warm.seconds(),
                warm.quiet() ? "idle" : "still compiling (time limit)");
        OpenAiServer server;
        try {
            Path dir = modelOptions.model.equals("demo") ? null : Path.of(modelOptions.model);
            double temperature = defaultTemperature != null ? defaultTemperature
                    : SamplingDefaults.temperature(dir, model.name());
            ServerOptions options = new ServerOptions(host, port, apiKey, maxBodyBytes,
                    Duration.ofSeconds(requestTimeoutSeconds), corsOrigin, temperature,
                    Duration.ofSeconds(drainTimeoutSeconds));
            server = OpenAiServer.start(model, options);
            out.printf("Serving %s on http://%s:%d/v1 (default temperature %s%s)%n", model.name(), host, server.port(),
                    temperature, options.apiKey() != null ? ", API key required" : "");
        } catch (IllegalArgumentException e) {
            model.close();
            throw new UsageException(e.getMessage());
        } catch (Exception e) {
            model.close();
            throw e;
        }
        // SIGTERM / Ctrl-C: stop taking requests, let in-flight ones finish, then free the model
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("tramontane-drain").unstarted(() -> {
            try {
                server.stop();
            } catch (Exception e) {
                System.err.println("serve: stopping the server failed: " + e.getMessage());
            }
            model.close();
        }));
        server.join();
        return Main.EXIT_OK;
    }
}
