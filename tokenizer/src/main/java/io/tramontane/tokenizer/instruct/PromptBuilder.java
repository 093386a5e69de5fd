package io.tramontane.tokenizer.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.tokenizer.Tekken;
import java.util.Arrays;

/** Prompt ids in the making: control tokens go in as ids, text is encoded piece by piece, never re-parsed. */
final class PromptBuilder {
    private final Tekken tekken;
    private int[] ids = new int[256];
    private int size;

    PromptBuilder(Tekken tekken) {
        this.tekken = tekken;
    }

    PromptBuilder control(String name) {
        return add(new int[] {tekken.specialId(name)});
    }

    PromptBuilder text(String text) {
        return text.isEmpty() ? this : add(tekken.encode(text));
    }

    PromptBuilder json(JsonNode value) {
        return text(PythonJson.dumps(value));
    }

    /** Text and thinking chunks in order; an open thinking block ({@code closed: false}) gets no {@code [/THINK]}. */
    PromptBuilder chunks(java.util.List<ContentChunk> chunks) {
        for (ContentChunk chunk : chunks) {
            switch (chunk) {
                case ContentChunk.Text text -> text(text.text());
                case ContentChunk.Thinking thinking -> {
                    control("[THINK]").text(thinking.thinking());
                    if (thinking.closed()) control("[/THINK]");
                }
            }
        }
        return this;
    }

    int[] toArray() {
        return Arrays.copyOf(ids, size);
    }

    private PromptBuilder add(int[] more) {
        if (size + more.length > ids.length) ids = Arrays.copyOf(ids, Math.max(2 * ids.length, size + more.length));
        System.arraycopy(more, 0, ids, size, more.length);
        size += more.length;
        return this;
    }
}
