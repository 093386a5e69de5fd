package io.tramontane.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.engine.FinishReason;
import io.tramontane.engine.TokenEvent;
import io.tramontane.sampling.Sampler;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.tokenizer.SpecialTokenPolicy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/**
 * {@code POST /v1/completions}: raw text in, text out (no chat template). Several prompts and {@code n} give
 * prompts x n choices, numbered prompt-major as OpenAI does.
 */
final class CompletionsHandler implements Endpoint {
    private final ServedModel model;
    private final ServerOptions options;
    private final ServerMetrics metrics;

    CompletionsHandler(ServedModel model, ServerOptions options, ServerMetrics metrics) {
        this.model = model;
        this.options = options;
        this.metrics = metrics;
    }

    /** What one choice produced so far. */
    private static final class Choice {
        final StringBuilder text = new StringBuilder();
        final List<Sampler.Sample> samples = new ArrayList<>();
        int tokens;
        TokenEvent last;
    }

    @Override
    public void handle(Request request, Response response) throws Exception {
        CompletionRequest completion = CompletionRequest.read(
                HttpIo.readJsonObject(request, options.maxBodyBytes()), options.defaultTemperature());
        model.check(completion.model());
        var tekken = model.tokenizer();
        List<int[]> prompts = new ArrayList<>();
        List<String> echoes = new ArrayList<>();
        for (CompletionRequest.Prompt prompt : completion.prompts()) {
            int[] ids = prompt.ids() != null ? prompt.ids() : model.textPrompt(prompt.text());
            for (int id : ids) {
                if (id >= tekken.vocabSize()) {
                    throw ApiError.invalid("prompt", "prompt: token id " + id + " is not in the vocabulary [0, "
                            + tekken.vocabSize() + ")");
                }
            }
            prompts.add(ids);
            echoes.add(prompt.text() != null ? prompt.text() : tekken.decode(ids, SpecialTokenPolicy.IGNORE));
        }
        int n = completion.n(), count = prompts.size() * n, promptTokens = 0;
        List<SamplingParams> sampling = new ArrayList<>();
        SamplingRequest withDefault = completion.sampling().maxTokens() != null ? completion.sampling()
                : completion.sampling().withMaxTokens(CompletionRequest.DEFAULT_MAX_TOKENS);
        for (int c = 0; c < count; c++) {
            sampling.add(withDefault.toParams(prompts.get(c / n).length, model.maxContext(), c % n));
        }
        for (int[] prompt : prompts) promptTokens += prompt.length;

        List<Choice> choices = new ArrayList<>();
        for (int c = 0; c < count; c++) choices.add(new Choice());
        CompletionJson json = new CompletionJson(Ids.completion(), Instant.now().getEpochSecond(), model.name(),
                new TokenJson(tekken));
        boolean logprobs = completion.logprobs() >= 0;
        try (RequestRun run = new RequestRun(request, count,
                (c, listener) -> model.generate(prompts.get(c / n), sampling.get(c), null, listener),
                promptTokens, options.requestTimeout(), metrics)) {
            if (!completion.stream()) {
                for (GenerationFeed.Event event; (event = run.next()) != null; ) {
                    record(choices.get(event.choice()), event.event());
                }
                ObjectNode body = json.envelope();
                for (int c = 0; c < count; c++) {
                    Choice choice = choices.get(c);
                    if (choice.last.finish() == FinishReason.ERROR) throw EngineErrors.toApiError(choice.last.error());
                    String echo = completion.echo() ? echoes.get(c / n) : "";
                    ((ArrayNode) body.get("choices")).add(json.choice(c, echo + choice.text,
                            logprobs ? choice.samples : null, echo.length(), choice.last.finish().openAiName()));
                }
                body.set("usage", ChatJson.usage(promptTokens, totalTokens(choices)));
                HttpIo.writeJson(response, 200, body);
                return;
            }
            boolean usage = completion.includeUsage();
            SseWriter sse = new SseWriter(response);
            if (completion.echo()) {
                for (int c = 0; c < count; c++) {
                    sse.send(json.chunk(json.choice(c, echoes.get(c / n), logprobs ? List.of() : null, 0, null), usage));
                }
            }
            try {
                for (GenerationFeed.Event event; (event = run.next()) != null; ) {
                    Choice choice = choices.get(event.choice());
                    int offset = choice.text.length();
                    int before = choice.samples.size();
                    record(choice, event.event());
                    TokenEvent last = event.event();
                    if (last.finish() == FinishReason.ERROR) {
                        sse.send(EngineErrors.toApiError(last.error()).body());
                        continue;
                    }
                    List<Sampler.Sample> samples = logprobs
                            ? List.copyOf(choice.samples.subList(before, choice.samples.size())) : null;
                    if (last.text().isEmpty() && !last.isLast() && (samples == null || samples.isEmpty())) continue;
                    sse.send(json.chunk(json.choice(event.choice(), last.text(), samples, offset,
                            last.isLast() ? last.finish().openAiName() : null), usage));
                }
            } catch (ApiError timeout) {
                sse.send(timeout.body());
            }
            if (usage) {
                ObjectNode end = json.envelope();
                end.set("usage", ChatJson.usage(promptTokens, totalTokens(choices)));
                sse.send(end);
            }
            sse.done();
        }
    }

    private static void record(Choice choice, TokenEvent event) {
        if (event.token() >= 0) {
            choice.tokens++;
            if (event.sample() != null) choice.samples.add(event.sample());
        }
        choice.text.append(event.text());
        if (event.isLast()) choice.last = event;
    }

    private static int totalTokens(List<Choice> choices) {
        int total = 0;
        for (Choice choice : choices) total += choice.tokens;
        return total;
    }
}
