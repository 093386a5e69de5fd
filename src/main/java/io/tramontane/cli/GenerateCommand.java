package io.tramontane.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.api.Tramontane;
import io.tramontane.engine.TokenEvent;
import io.tramontane.sampling.SamplingParams;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Complete one prompt (raw text or ids; use 'chat' for the instruct format), streaming the text.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", description = "Prompt text, tokenized with the model's tokenizer (BOS added).")
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
    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k most likely tokens; 0 disables.")
    int topK;
    @Option(names = "--seed", description = "Seed for reproducible sampling.")
    Long seed;
    @Option(names = "--ignore-eos", description = "Keep generating past the end-of-sequence token.")
    boolean ignoreEos;
    @Option(names = "--json", description = "Print {\"ids\", \"text\", \"finish_reason\"} as one JSON object.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SamplingParams sampling;
        try {
            sampling = SamplingParams.greedy(maxTokens).withTemperature(temperature).withFilters(topK, topP, 0)
                    .withSeed(seed).withLimits(maxTokens, 0, ignoreEos);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Tramontane model = modelOptions.open()) {
            int[] ids = prompt.ids != null ? prompt.ids : withBos(model, model.encode(prompt.text));
            List<Integer> generated = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            CompletableFuture<TokenEvent> last = new CompletableFuture<>();
            model.generate(ids, sampling, event -> {
                if (event.token() >= 0) generated.add(event.token());
                text.append(event.text());
                if (!json) {
                    out.print(event.text());
                    out.flush();
                }
                if (event.isLast()) last.complete(event);
            });
            TokenEvent end = last.get();
            if (end.error() != null) throw new IllegalStateException(end.error().getMessage(), end.error());
            if (json) {
                ObjectNode result = new ObjectMapper().createObjectNode();
                generated.forEach(result.putArray("ids")::add);
                result.put("text", text.toString()).put("finish_reason", end.finish().openAiName());
                out.println(result);
            } else {
                out.println();
            }
        }
        return Main.EXIT_OK;
    }

    private static int[] withBos(Tramontane model, int[] text) {
        int[] ids = new int[text.length + 1];
        ids[0] = model.tokenizer().orElseThrow().bosId();
        System.arraycopy(text, 0, ids, 1, text.length);
        return ids;
    }
}
