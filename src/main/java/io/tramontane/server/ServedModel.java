package io.tramontane.server;

import io.tramontane.api.Tramontane;
import io.tramontane.constraint.ConstraintCompiler;
import io.tramontane.constraint.ConstraintException;
import io.tramontane.engine.Generation;
import io.tramontane.engine.TextStream;
import io.tramontane.engine.TokenEvent;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.sampling.TokenConstraint;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.instruct.ChatRequest;
import io.tramontane.tokenizer.instruct.InvalidRequestException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** The model behind the API: its public name, request checks against it, and the library calls handlers use. */
final class ServedModel {
    private final Tramontane model;
    /** One per model: it caches compiled grammars and their token masks across requests. Null without a tokenizer. */
    private final ConstraintCompiler constraints;
    private final long created = Instant.now().getEpochSecond();

    ServedModel(Tramontane model) {
        this.model = model;
        this.constraints = model.tokenizer().map(ConstraintCompiler::forTokenizer).orElse(null);
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

    /**
     * The decoding constraint of each of {@code n} choices (each has its own state), or nulls for free text:
     * forced tool calls ({@code tool_choice} required or named) first, else {@code response_format}.
     * Compiled before anything runs, so an unsupported schema is a 400.
     */
    List<TokenConstraint> constraints(ChatCompletionRequest request) {
        List<TokenConstraint> out = new ArrayList<>();
        for (int i = 0; i < request.n(); i++) {
            try {
                out.add(switch (request.toolChoice()) {
                    case ToolChoice.Required r -> constraints.toolCalls(request.chat().tools(), null,
                            request.parallelToolCalls());
                    case ToolChoice.Named named -> constraints.toolCalls(request.chat().tools(), named.name(),
                            request.parallelToolCalls());
                    case ToolChoice.Auto a -> format(request.responseFormat());
                    case ToolChoice.None none -> format(request.responseFormat());
                });
            } catch (ConstraintException e) {
                String param = request.toolChoice() instanceof ToolChoice.Required
                        || request.toolChoice() instanceof ToolChoice.Named ? "tools" : "response_format";
                throw ApiError.invalid(param, e.getMessage());
            }
        }
        return out;
    }

    private TokenConstraint format(ResponseFormat format) {
        return switch (format) {
            case ResponseFormat.Text t -> null;
            case ResponseFormat.JsonObject o -> constraints.jsonObject();
            case ResponseFormat.JsonSchema s -> constraints.jsonSchema(s.schema());
        };
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

    /** @param constraint null for free generation */
    Generation generate(int[] prompt, SamplingParams sampling, TokenConstraint constraint, Consumer<TokenEvent> listener) {
        return model.generate(prompt, sampling, constraint, listener);
    }
}
