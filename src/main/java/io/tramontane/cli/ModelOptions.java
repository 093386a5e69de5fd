package io.tramontane.cli;

import io.tramontane.api.Tramontane;
import picocli.CommandLine.Option;

/** How to load a model: shared by the commands that run one. */
final class ModelOptions {
    @Option(names = "--model", defaultValue = "demo", description = "Model directory, or 'demo' (default: random weights).")
    String model;
    @Option(names = "--threads", description = "CPU threads (default: all available cores).")
    Integer threads;
    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel ranks (default: ${DEFAULT-VALUE}).")
    int tensorParallel;

    Tramontane open() {
        var options = Tramontane.Options.defaults().withTensorParallel(tensorParallel);
        if (threads != null) options = options.withThreads(threads);
        return Tramontane.open(model, options);
    }
}
