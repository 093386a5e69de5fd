package io.tramontane.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Prefill the given ids once and write the logits of every position (F32 safetensors).")
final class LogitsCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory.")
    String model;
    @Option(names = "--prompt-ids", required = true, split = ",", description = "Token ids, e.g. 1,2,3.")
    int[] promptIds;
    @Option(names = "--out", required = true, description = "Output file: tensor 'logits' of shape [positions, vocab].")
    Path out;

    @Override
    public Integer call() {
        throw new NotImplementedException("logits", 5);
    }
}
