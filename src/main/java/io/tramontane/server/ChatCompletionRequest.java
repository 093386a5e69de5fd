package io.tramontane.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.tokenizer.instruct.ChatRequest;
import io.tramontane.tokenizer.instruct.InvalidRequestException;

/**
 * A parsed {@code POST /v1/chat/completions} body. Fields OpenAI has and this server does not use
 * ({@code user}, {@code metadata}, ...) are ignored, as OpenAI ignores unknown ones.
 *
 * @param model null when the request names none (the served model is meant)
 */
record ChatCompletionRequest(String model, ChatRequest chat, SamplingRequest sampling, int n, boolean stream,
                             boolean includeUsage, boolean logprobs, ToolChoice toolChoice, boolean parallelToolCalls,
                             ResponseFormat responseFormat) {

    static ChatCompletionRequest read(JsonNode body, double defaultTemperature) {
        RequestFields fields = new RequestFields(body);
        boolean logprobs = fields.bool("logprobs", false);
        int topLogprobs = fields.integer("top_logprobs", 0);
        if (fields.has("top_logprobs") && !logprobs) {
            throw ApiError.invalid("top_logprobs", "top_logprobs needs logprobs: true");
        }
        ChatRequest chat;
        try {
            chat = ChatRequest.fromJson(body);
        } catch (InvalidRequestException e) {
            throw invalidChat(e);
        }
        JsonNode streamOptions = fields.object("stream_options");
        boolean stream = fields.bool("stream", false);
        boolean includeUsage = streamOptions != null
                && new RequestFields(streamOptions).bool("include_usage", false);
        if (streamOptions != null && !stream) {
            throw ApiError.invalid("stream_options", "stream_options is only allowed with stream: true");
        }
        int n = fields.integer("n", 1);
        if (n < 1 || n > Limits.MAX_CHOICES) {
            throw ApiError.invalid("n", "n must be in [1, " + Limits.MAX_CHOICES + "], got " + n);
        }
        return new ChatCompletionRequest(fields.string("model"), chat,
                SamplingRequest.read(fields, defaultTemperature, logprobs ? topLogprobs : -1), n, stream, includeUsage,
                logprobs, ToolChoice.read(fields.node("tool_choice"), chat.tools()),
                fields.bool("parallel_tool_calls", true), ResponseFormat.read(fields.node("response_format")));
    }

    /** The tokenizer's messages start with the JSON path of the field at fault: "messages[1].role: ...". */
    static ApiError invalidChat(InvalidRequestException e) {
        String message = e.getMessage();
        int colon = message.indexOf(": ");
        String path = colon > 0 && !message.substring(0, colon).contains(" ") ? message.substring(0, colon) : null;
        return ApiError.invalid(path, message);
    }
}
