package io.tramontane.server;

import io.tramontane.sampling.SamplingParams;
import java.util.List;

/**
 * The sampling fields of a chat or completion request, before the prompt length is known: the output
 * budget defaults to what the context leaves (OpenAI's and vLLM's default).
 *
 * @param maxTokens   null when the request does not limit the output
 * @param topLogprobs -1 when no logprobs are wanted
 */
record SamplingRequest(double temperature, int topK, double topP, double minP, double presencePenalty,
                       double frequencyPenalty, double repetitionPenalty, Long seed, int topLogprobs,
                       Integer maxTokens, int minTokens, boolean ignoreEos, List<Integer> stopTokenIds,
                       List<String> stop) {

    /** Reads the fields both endpoints share; {@code topLogprobs} comes from the endpoint's own logprobs fields. */
    static SamplingRequest read(RequestFields fields, double defaultTemperature, int topLogprobs) {
        int topK = fields.integer("top_k", 0);
        if (topK == -1) topK = 0;  // vLLM spells "disabled" as -1
        Integer maxTokens = fields.has("max_completion_tokens") || fields.has("max_tokens")
                ? fields.integer("max_completion_tokens", "max_tokens", 0) : null;
        if (maxTokens != null && maxTokens < 1) {
            throw ApiError.invalid(fields.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens",
                    "max_tokens must be at least 1, got " + maxTokens);
        }
        return new SamplingRequest(
                fields.number("temperature", defaultTemperature), topK,
                fields.number("top_p", 1), fields.number("min_p", 0),
                fields.number("presence_penalty", 0), fields.number("frequency_penalty", 0),
                fields.number("repetition_penalty", 1), fields.longInteger("seed"), topLogprobs,
                maxTokens, fields.integer("min_tokens", 0), fields.bool("ignore_eos", false),
                fields.integers("stop_token_ids"), fields.strings("stop"));
    }

    /**
     * The engine's parameters for a prompt of {@code promptTokens}, seed shifted by {@code choice} so the
     * {@code n} choices of one seeded request differ from each other and are reproducible.
     */
    SamplingParams toParams(int promptTokens, int maxContext, int choice) {
        int room = maxContext - promptTokens;
        if (room < 1 || (maxTokens != null && maxTokens > room)) {
            throw ApiError.contextLength("This model's maximum context length is " + maxContext + " tokens. However, you"
                    + " requested " + (promptTokens + (maxTokens == null ? 0 : maxTokens)) + " tokens (" + promptTokens
                    + " in the prompt, " + (maxTokens == null ? 0 : maxTokens) + " in the completion).");
        }
        try {
            return new SamplingParams(temperature, topK, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty,
                    seed == null ? null : seed + choice, topLogprobs, maxTokens == null ? room : maxTokens, minTokens,
                    ignoreEos, stopTokenIds, stop);
        } catch (IllegalArgumentException e) {
            // SamplingParams names the OpenAI field first: "top_p must be in (0, 1], got 2.0"
            String message = e.getMessage();
            throw ApiError.invalid(message.substring(0, Math.max(0, message.indexOf(' '))), message);
        }
    }

    SamplingRequest withMaxTokens(int max) {
        return new SamplingRequest(temperature, topK, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty,
                seed, topLogprobs, max, minTokens, ignoreEos, stopTokenIds, stop);
    }
}
