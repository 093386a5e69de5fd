package io.tramontane.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate a completion for one prompt.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "demo", description = "Model directory, or 'demo' (default).")
    String model;

    @ArgGroup(multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", description = "Prompt text, tokenized with the model's tokenizer.")
        String text;
        @Option(names = "--prompt-ids", split = ",", description = "Prompt as token ids, e.g. 1,2,3.")
        int[] ids;
    }

    @Option(names = "--max-tokens", defaultValue = "128", description = "Tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "Sampling temperature; 0 is greedy (default).")
    double temperature;
    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    double topP;
    @Option(names = "--seed", description = "Seed for reproducible sampling.")
    Long seed;
    @Option(names = "--ignore-eos", description = "Keep generating past the end-of-sequence token.")
    boolean ignoreEos;
    @Option(names = "--json", description = "Print {\"ids\", \"text\", \"finish_reason\"} as one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        throw new NotImplementedException("generate", 5);
    }
}
