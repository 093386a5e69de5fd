package io.tramontane.cli;

import io.tramontane.api.Tramontane;
import io.tramontane.engine.TokenEvent;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.tokenizer.instruct.AssistantMessage;
import io.tramontane.tokenizer.instruct.ChatMessage;
import io.tramontane.tokenizer.instruct.ChatRequest;
import io.tramontane.tokenizer.instruct.SystemMessage;
import io.tramontane.tokenizer.instruct.UserMessage;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Interactive chat in the terminal, streaming each reply. An empty line or end of input quits.")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;
    @Option(names = "--system", description = "System prompt.")
    String system;
    @Option(names = "--max-tokens", defaultValue = "512", description = "Tokens per reply (default: ${DEFAULT-VALUE}).")
    int maxTokens;
    @Option(names = "--temperature", defaultValue = "0.15", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature;
    @Option(names = "--seed", description = "Seed for reproducible sampling.")
    Long seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Replaced by tests. */
    InputStream input = System.in;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        SamplingParams sampling = SamplingParams.greedy(maxTokens).withTemperature(temperature).withSeed(seed);
        List<ChatMessage> conversation = new ArrayList<>();
        if (system != null) conversation.add(new SystemMessage(system));
        try (Tramontane model = modelOptions.open();
             BufferedReader lines = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8))) {
            out.println("Chatting with " + model.name() + (model.name().equals("demo") ? " (random weights: expect nonsense)" : "")
                    + ". Empty line to quit.");
            while (true) {
                out.print("> ");
                out.flush();
                String line = lines.readLine();
                if (line == null || line.isBlank()) break;
                conversation.add(new UserMessage(line));
                StringBuilder reply = new StringBuilder();
                CompletableFuture<TokenEvent> last = new CompletableFuture<>();
                model.generate(model.chatPrompt(ChatRequest.of(conversation)), sampling, event -> {
                    reply.append(event.text());
                    out.print(event.text());
                    out.flush();
                    if (event.isLast()) last.complete(event);
                });
                TokenEvent end = last.get();
                out.println();
                if (end.error() != null) throw new IllegalStateException(end.error().getMessage(), end.error());
                conversation.add(new AssistantMessage(reply.toString()));
            }
        }
        return Main.EXIT_OK;
    }
}
