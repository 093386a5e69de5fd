package io.tramontane.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "chat", mixinStandardHelpOptions = true, description = "Interactive streaming chat in the terminal.")
final class ChatCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "demo", description = "Model directory, or 'demo' (default).")
    String model;

    @Override
    public Integer call() {
        throw new NotImplementedException("chat", 5);
    }
}
