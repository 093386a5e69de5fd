package io.tramontane.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Describe a checkpoint: architecture, shapes, RoPE, MoE, quantization, tokenizer.")
final class InspectCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory (Mistral-native or HF layout).")
    String model;
    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        throw new NotImplementedException("inspect", 4);
    }
}
