package io.tramontane.tokenizer.instruct;

import java.util.List;

public record UserMessage(List<ContentChunk> content) implements ChatMessage {
    public UserMessage {
        content = List.copyOf(content);
    }

    public UserMessage(String text) {
        this(ContentChunk.of(text));
    }

    @Override
    public String role() {
        return "user";
    }
}
