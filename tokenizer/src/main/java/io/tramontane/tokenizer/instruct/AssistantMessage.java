package io.tramontane.tokenizer.instruct;

import java.util.List;

/** @param prefix true when the model is to continue this (last) message instead of answering after it */
public record AssistantMessage(List<ContentChunk> content, List<ToolCall> toolCalls, boolean prefix)
        implements ChatMessage {
    public AssistantMessage {
        content = List.copyOf(content);
        toolCalls = List.copyOf(toolCalls);
    }

    public AssistantMessage(String text) {
        this(ContentChunk.of(text), List.of(), false);
    }

    public AssistantMessage(String text, List<ToolCall> toolCalls) {
        this(ContentChunk.of(text), toolCalls, false);
    }

    @Override
    public String role() {
        return "assistant";
    }
}
