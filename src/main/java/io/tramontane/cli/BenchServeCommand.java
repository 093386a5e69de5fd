package io.tramontane.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "serve", mixinStandardHelpOptions = true, description = "Load generator for an OpenAI-compatible endpoint.")
final class BenchServeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new NotImplementedException("bench serve", 8);
    }
}
