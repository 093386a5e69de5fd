package io.tramontane.cli;

import io.tramontane.api.Tramontane;
import io.tramontane.weights.SafetensorsWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Prefill the given ids once and write the logits of every position (F32 safetensors).")
final class LogitsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;
    @Option(names = "--prompt-ids", required = true, split = ",", description = "Token ids, e.g. 1,2,3.")
    int[] promptIds;
    @Option(names = "--out", required = true, description = "Output file: tensor 'logits' of shape [positions, vocab].")
    Path out;

    @Override
    public Integer call() {
        try (Tramontane model = modelOptions.open()) {
            float[][] logits = model.logits(promptIds);
            int vocab = model.config().vocabSize();
            float[] flat = new float[logits.length * vocab];
            for (int r = 0; r < logits.length; r++) System.arraycopy(logits[r], 0, flat, r * vocab, vocab);
            new SafetensorsWriter().addFloats("logits", new long[] {logits.length, vocab}, flat).write(out);
        }
        return Main.EXIT_OK;
    }
}
