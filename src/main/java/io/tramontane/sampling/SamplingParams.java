package io.tramontane.sampling;

import java.util.List;

/**
 * How one request turns logits into tokens (OpenAI / vLLM semantics).
 *
 * @param temperature       0 means greedy (argmax, lowest id on ties)
 * @param topK              0 disables
 * @param topP              1 disables
 * @param minP              0 disables; keeps tokens with probability >= minP * max probability
 * @param repetitionPenalty 1 disables; divides positive / multiplies negative logits of tokens seen in prompt or output
 * @param seed              null draws a random seed; a fixed seed makes the request reproducible
 * @param topLogprobs       -1: no logprobs; otherwise the number of alternatives to report per token
 */
public record SamplingParams(
        double temperature,
        int topK,
        double topP,
        double minP,
        double presencePenalty,
        double frequencyPenalty,
        double repetitionPenalty,
        Long seed,
        int topLogprobs,
        int maxTokens,
        int minTokens,
        boolean ignoreEos,
        List<Integer> stopTokenIds,
        List<String> stopStrings) {

    public SamplingParams {
        check(temperature >= 0, "temperature", temperature, ">= 0");
        check(topK >= 0, "top_k", topK, ">= 0 (0 disables)");
        check(topP > 0 && topP <= 1, "top_p", topP, "in (0, 1]");
        check(minP >= 0 && minP <= 1, "min_p", minP, "in [0, 1]");
        check(presencePenalty >= -2 && presencePenalty <= 2, "presence_penalty", presencePenalty, "in [-2, 2]");
        check(frequencyPenalty >= -2 && frequencyPenalty <= 2, "frequency_penalty", frequencyPenalty, "in [-2, 2]");
        check(repetitionPenalty > 0, "repetition_penalty", repetitionPenalty, "> 0");
        check(topLogprobs >= -1 && topLogprobs <= 20, "top_logprobs", topLogprobs, "in [0, 20]");
        check(maxTokens >= 1, "max_tokens", maxTokens, ">= 1");
        check(minTokens >= 0 && minTokens <= maxTokens, "min_tokens", minTokens, "in [0, max_tokens]");
        stopTokenIds = List.copyOf(stopTokenIds);
        stopStrings = List.copyOf(stopStrings);
    }

    private static void check(boolean ok, String name, Object value, String expected) {
        if (!ok) throw new IllegalArgumentException(name + " must be " + expected + ", got " + value);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 0, 1, 0, 0, 0, 1, null, -1, maxTokens, 0, false, List.of(), List.of());
    }

    public SamplingParams withTemperature(double t) {
        return new SamplingParams(t, topK, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty, seed,
                topLogprobs, maxTokens, minTokens, ignoreEos, stopTokenIds, stopStrings);
    }

    public SamplingParams withFilters(int k, double p, double min) {
        return new SamplingParams(temperature, k, p, min, presencePenalty, frequencyPenalty, repetitionPenalty, seed,
                topLogprobs, maxTokens, minTokens, ignoreEos, stopTokenIds, stopStrings);
    }

    public SamplingParams withPenalties(double presence, double frequency, double repetition) {
        return new SamplingParams(temperature, topK, topP, minP, presence, frequency, repetition, seed,
                topLogprobs, maxTokens, minTokens, ignoreEos, stopTokenIds, stopStrings);
    }

    public SamplingParams withSeed(Long s) {
        return new SamplingParams(temperature, topK, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty, s,
                topLogprobs, maxTokens, minTokens, ignoreEos, stopTokenIds, stopStrings);
    }

    public SamplingParams withLogprobs(int top) {
        return new SamplingParams(temperature, topK, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty, seed,
                top, maxTokens, minTokens, ignoreEos, stopTokenIds, stopStrings);
    }

    public SamplingParams withStops(List<Integer> tokenIds, List<String> strings) {
        return new SamplingParams(temperature, topK, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty, seed,
                topLogprobs, maxTokens, minTokens, ignoreEos, tokenIds, strings);
    }

    public SamplingParams withLimits(int max, int min, boolean ignoreEndOfSequence) {
        return new SamplingParams(temperature, topK, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty, seed,
                topLogprobs, max, min, ignoreEndOfSequence, stopTokenIds, stopStrings);
    }
}
