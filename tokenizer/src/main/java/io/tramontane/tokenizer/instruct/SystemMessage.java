package io.tramontane.tokenizer.instruct;

import java.util.List;

public record SystemMessage(List<ContentChunk> content) implements ChatMessage {
    public SystemMessage {
        content = List.copyOf(content);
    }

    public SystemMessage(String text) {
        this(ContentChunk.of(text));
    }

    @Override
    public String role() {
        return "system";
    }
}
