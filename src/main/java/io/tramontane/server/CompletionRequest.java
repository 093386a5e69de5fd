package io.tramontane.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed {@code POST /v1/completions} body.
 *
 * @param prompts  one or more prompts: text, or token ids as a list of integers
 * @param logprobs legacy logprobs: how many alternatives per token, or -1 for none
 */
record CompletionRequest(String model, List<Prompt> prompts, SamplingRequest sampling, int n, boolean stream,
                         boolean includeUsage, int logprobs, boolean echo) {

    /** OpenAI's legacy default output length. */
    static final int DEFAULT_MAX_TOKENS = 16;

    /** One prompt: exactly one of text and ids is set. */
    record Prompt(String text, int[] ids) {}

    static CompletionRequest read(JsonNode body, double defaultTemperature) {
        RequestFields fields = new RequestFields(body);
        int logprobs = fields.has("logprobs") ? fields.integer("logprobs", 0) : -1;
        if (fields.has("logprobs") && (logprobs < 0 || logprobs > 20)) {
            throw ApiError.invalid("logprobs", "logprobs must be in [0, 20], got " + logprobs);
        }
        JsonNode streamOptions = fields.object("stream_options");
        boolean stream = fields.bool("stream", false);
        if (streamOptions != null && !stream) {
            throw ApiError.invalid("stream_options", "stream_options is only allowed with stream: true");
        }
        int n = fields.integer("n", 1);
        if (n < 1 || n > Limits.MAX_CHOICES) {
            throw ApiError.invalid("n", "n must be in [1, " + Limits.MAX_CHOICES + "], got " + n);
        }
        List<Prompt> prompts = prompts(fields.node("prompt"));
        if (prompts.size() * n > Limits.MAX_CHOICES) {
            throw ApiError.invalid("prompt", "prompts times n must be at most " + Limits.MAX_CHOICES);
        }
        SamplingRequest sampling = SamplingRequest.read(fields, defaultTemperature, logprobs);
        return new CompletionRequest(fields.string("model"), prompts, sampling, n, stream,
                streamOptions != null && new RequestFields(streamOptions).bool("include_usage", false), logprobs,
                fields.bool("echo", false));
    }

    /** A string, a list of strings, a list of ids, or a list of lists of ids. */
    private static List<Prompt> prompts(JsonNode node) {
        if (node == null) throw ApiError.invalid("prompt", "prompt: required");
        if (node.isTextual()) return List.of(new Prompt(node.asText(), null));
        if (!node.isArray() || node.isEmpty()) {
            throw ApiError.invalid("prompt", "prompt: expected a string, a list of strings or a list of token ids");
        }
        if (node.get(0).isNumber()) return List.of(new Prompt(null, ids(node)));
        List<Prompt> prompts = new ArrayList<>();
        for (JsonNode item : node) {
            if (item.isTextual()) prompts.add(new Prompt(item.asText(), null));
            else if (item.isArray() && !item.isEmpty()) prompts.add(new Prompt(null, ids(item)));
            else throw ApiError.invalid("prompt", "prompt: every item must be a string or a list of token ids");
        }
        return prompts;
    }

    private static int[] ids(JsonNode list) {
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = list.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                throw ApiError.invalid("prompt", "prompt: token ids must be non-negative integers, got " + id);
            }
            ids[i] = id.asInt();
        }
        return ids;
    }
}
