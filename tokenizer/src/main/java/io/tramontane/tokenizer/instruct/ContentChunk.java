package io.tramontane.tokenizer.instruct;

import java.util.List;

/** A part of a message's content: text, or a thinking block ({@code [THINK]...[/THINK]}, v13 on). */
public sealed interface ContentChunk {

    record Text(String text) implements ContentChunk {
        public Text {
            if (text == null) throw new IllegalArgumentException("text chunk needs text");
        }
    }

    /** @param closed false for an open thinking block that the model continues (no {@code [/THINK]}) */
    record Thinking(String thinking, boolean closed) implements ContentChunk {
        public Thinking {
            if (thinking == null) throw new IllegalArgumentException("thinking chunk needs thinking text");
        }
    }

    /** A plain string content as chunks: one text chunk. */
    static List<ContentChunk> of(String text) {
        return text == null ? List.of() : List.of(new Text(text));
    }

    static boolean hasThinking(List<ContentChunk> chunks) {
        return chunks.stream().anyMatch(Thinking.class::isInstance);
    }
}
