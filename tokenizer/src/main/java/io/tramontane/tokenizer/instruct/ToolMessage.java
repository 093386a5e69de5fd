package io.tramontane.tokenizer.instruct;

import java.util.List;

/**
 * The result of a tool call.
 *
 * @param toolCallId the id of the call this answers (null when the request gives none)
 * @param name       the function name; informational, not written into prompts
 */
public record ToolMessage(List<ContentChunk> content, String toolCallId, String name) implements ChatMessage {
    public ToolMessage {
        content = List.copyOf(content);
    }

    public ToolMessage(String toolCallId, String content) {
        this(ContentChunk.of(content), toolCallId, null);
    }

    @Override
    public String role() {
        return "tool";
    }
}
