package io.tramontane.server;

import io.tramontane.engine.FinishReason;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.sampling.Sampler;
import io.tramontane.sampling.TokenConstraint;
import io.tramontane.tokenizer.instruct.ChatDelta;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/** {@code POST /v1/chat/completions}: one response, or an SSE stream of chunks with {@code stream: true}. */
final class ChatCompletionsHandler implements Endpoint {
    private final ServedModel model;
    private final ServerOptions options;
    private final ServerMetrics metrics;

    ChatCompletionsHandler(ServedModel model, ServerOptions options, ServerMetrics metrics) {
        this.model = model;
        this.options = options;
        this.metrics = metrics;
    }

    @Override
    public void handle(Request request, Response response) throws Exception {
        var body = HttpIo.readJsonObject(request, options.maxBodyBytes());
        ChatCompletionRequest chat = ChatCompletionRequest.read(body, options.defaultTemperature());
        model.check(chat.model());
        int[] prompt = model.chatPrompt(chat.chat(), chat.toolChoice());
        List<SamplingParams> sampling = new ArrayList<>();
        for (int i = 0; i < chat.n(); i++) sampling.add(chat.sampling().toParams(prompt.length, model.maxContext(), i));

        List<TokenConstraint> constraints = model.constraints(chat);
        List<ChatChoice> choices = new ArrayList<>();
        for (int i = 0; i < chat.n(); i++) {
            choices.add(new ChatChoice(i, model.tokenizer(), model.textStream(), chat.logprobs()));
        }
        ChatJson json = new ChatJson(Ids.chatCompletion(), Instant.now().getEpochSecond(), model.name(),
                new TokenJson(model.tokenizer()));
        try (RequestRun run = new RequestRun(request, chat.n(),
                (i, listener) -> model.generate(prompt, sampling.get(i), constraints.get(i), listener),
                prompt.length, options.requestTimeout(), metrics)) {
            if (chat.stream()) stream(run, chat, choices, json, prompt.length, response);
            else respond(run, chat, choices, json, prompt.length, response);
        }
    }

    private static void respond(RequestRun run, ChatCompletionRequest chat, List<ChatChoice> choices, ChatJson json,
                                int promptTokens, Response response) throws Exception {
        for (GenerationFeed.Event event; (event = run.next()) != null; ) {
            choices.get(event.choice()).accept(event.event());
        }
        for (ChatChoice choice : choices) {
            if (choice.finish() == FinishReason.ERROR) throw EngineErrors.toApiError(choice.error());
        }
        HttpIo.writeJson(response, 200, json.response(choices, ChatJson.usage(promptTokens, completionTokens(choices)),
                chat.logprobs()));
    }

    private static void stream(RequestRun run, ChatCompletionRequest chat, List<ChatChoice> choices, ChatJson json,
                               int promptTokens, Response response) throws Exception {
        boolean usage = chat.includeUsage();
        SseWriter sse = new SseWriter(response);
        for (ChatChoice choice : choices) sse.send(json.roleChunk(choice.index, usage));
        try {
            for (GenerationFeed.Event event; (event = run.next()) != null; ) {
                ChatChoice choice = choices.get(event.choice());
                List<ChatDelta> deltas = choice.accept(event.event());
                for (ChatDelta delta : deltas) sse.send(json.deltaChunk(choice.index, delta, samples(chat, choice), usage));
                if (!choice.finished()) continue;
                if (choice.finish() == FinishReason.ERROR) {
                    sse.send(EngineErrors.toApiError(choice.error()).body());
                } else {
                    sse.send(json.finishChunk(choice, samples(chat, choice), usage));
                }
            }
        } catch (ApiError timeout) {
            sse.send(timeout.body());
        }
        if (usage) sse.send(json.usageChunk(ChatJson.usage(promptTokens, completionTokens(choices))));
        sse.done();
    }

    /** The logprobs of the tokens not yet reported, or null when the request did not ask for them. */
    private static List<Sampler.Sample> samples(ChatCompletionRequest chat, ChatChoice choice) {
        return chat.logprobs() ? choice.takeSamples() : null;
    }

    private static int completionTokens(List<ChatChoice> choices) {
        int total = 0;
        for (ChatChoice choice : choices) total += choice.tokens();
        return total;
    }
}
