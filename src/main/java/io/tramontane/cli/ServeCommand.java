package io.tramontane.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over an OpenAI-compatible HTTP API.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "demo", description = "Model directory, or 'demo' (default).")
    String model;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host;
    @Option(names = "--port", defaultValue = "8000", description = "Port to listen on (default: ${DEFAULT-VALUE}).")
    int port;
    @Option(names = "--api-key", description = "Require 'Authorization: Bearer KEY' (or set TRAMONTANE_API_KEY).")
    String apiKey;
    @Option(names = "--backend", defaultValue = "cpu", description = "cpu or cuda (default: ${DEFAULT-VALUE}).")
    String backend;
    @Option(names = "--threads", description = "CPU threads (default: all available cores).")
    Integer threads;
    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel ranks (default: ${DEFAULT-VALUE}).")
    int tensorParallel;

    @Override
    public Integer call() {
        throw new NotImplementedException("serve", 6);
    }
}
