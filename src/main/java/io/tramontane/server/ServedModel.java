package io.tramontane.server;

import io.tramontane.api.Tramontane;
import io.tramontane.engine.Generation;
import io.tramontane.engine.TextStream;
import io.tramontane.engine.TokenEvent;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.instruct.ChatRequest;
import io.tramontane.tokenizer.instruct.InvalidRequestException;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/** The model behind the API: its public name, request checks against it, and the library calls handlers use. */
final class ServedModel {
    private final Tramontane model;
    private final long created = Instant.now().getEpochSecond();

    ServedModel(Tramontane model) {
        this.model = model;
    }

    String name() {
        return model.name();
    }

    /** When the model was loaded, as the {@code created} of {@code /v1/models}. */
    long created() {
        return created;
    }

    int maxContext() {
        return model.maxContext();
    }

    /** 404 for a request that names another model; a request that names none means this one. */
    void check(String requested) {
        if (requested != null && !requested.equals(name())) throw ApiError.modelNotFound(requested);
    }

    Tekken tokenizer() {
        return model.tokenizer().orElseThrow(() -> ApiError.invalid(null,
                "The model '" + name() + "' has no tokenizer (tekken.json): only token ids can be used."));
    }

    /** The prompt in the model's instruct format; {@code tool_choice: none} leaves the tools out of it. */
    int[] chatPrompt(ChatRequest chat, ToolChoice toolChoice) {
        tokenizer();
        ChatRequest rendered = toolChoice instanceof ToolChoice.None && !chat.tools().isEmpty()
                ? new ChatRequest(chat.messages(), List.of(), chat.continueFinalMessage(), chat.reasoningEffort())
                : chat;
        try {
            return model.chatPrompt(rendered);
        } catch (InvalidRequestException e) {
            throw ChatCompletionRequest.invalidChat(e);
        }
    }

    /** Plain text as a completion prompt: BOS, then the text (as vLLM tokenizes Mistral prompts). */
    int[] textPrompt(String text) {
        int[] ids = tokenizer().encode(text);
        int[] prompt = new int[ids.length + 1];
        prompt[0] = tokenizer().bosId();
        System.arraycopy(ids, 0, prompt, 1, ids.length);
        return prompt;
    }

    /** A detokenizer that decodes like the engine's. */
    TextStream textStream() {
        return model.textStream();
    }

    Generation generate(int[] prompt, SamplingParams sampling, Consumer<TokenEvent> listener) {
        return model.generate(prompt, sampling, listener);
    }
}
