package io.tramontane.tokenizer.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A chat request as OpenAI's chat completions API has it, with Mistral's additions ({@code prefix} on the last
 * assistant message, {@code continue_final_message}, v15 {@code reasoning_effort}).
 *
 * @param reasoningEffort null when absent (the tokenizer's default is written)
 */
public record ChatRequest(List<ChatMessage> messages, List<Tool> tools, boolean continueFinalMessage,
                          String reasoningEffort) {
    public ChatRequest {
        messages = List.copyOf(messages);
        tools = List.copyOf(tools);
    }

    public static ChatRequest of(List<ChatMessage> messages) {
        return new ChatRequest(messages, List.of(), false, null);
    }

    /** Parses OpenAI request JSON; fields this model does not know (model, temperature, ...) are ignored. */
    public static ChatRequest fromJson(String json) {
        return ChatRequestParser.parse(json);
    }

    public static ChatRequest fromJson(JsonNode json) {
        return ChatRequestParser.parse(json);
    }
}
