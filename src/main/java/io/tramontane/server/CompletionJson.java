package io.tramontane.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.sampling.Sampler;
import java.util.List;

/** OpenAI legacy completion JSON ({@code text_completion}), whole or as stream chunks. */
final class CompletionJson {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final String id;
    private final long created;
    private final String model;
    private final TokenJson tokens;

    CompletionJson(String id, long created, String model, TokenJson tokens) {
        this.id = id;
        this.created = created;
        this.model = model;
        this.tokens = tokens;
    }

    /** A response or chunk with one choice; the caller adds choices to a response with {@link #choice}. */
    ObjectNode envelope() {
        ObjectNode root = NODES.objectNode();
        root.put("id", id);
        root.put("object", "text_completion");
        root.put("created", created);
        root.put("model", model);
        root.putArray("choices");
        return root;
    }

    /**
     * @param samples    the tokens of {@code text} with their logprobs, or null when not asked
     * @param textOffset where {@code text} starts in the whole completion (for {@code text_offset})
     */
    ObjectNode choice(int index, String text, List<Sampler.Sample> samples, int textOffset, String finishReason) {
        ObjectNode choice = NODES.objectNode();
        choice.put("index", index);
        choice.put("text", text);
        choice.set("logprobs", samples == null ? NODES.nullNode() : logprobs(samples, textOffset));
        choice.put("finish_reason", finishReason);
        return choice;
    }

    ObjectNode chunk(ObjectNode choice, boolean includeUsage) {
        ObjectNode root = envelope();
        ((ArrayNode) root.get("choices")).add(choice);
        if (includeUsage) root.putNull("usage");
        return root;
    }

    private ObjectNode logprobs(List<Sampler.Sample> samples, int textOffset) {
        ObjectNode logprobs = NODES.objectNode();
        ArrayNode tokenTexts = logprobs.putArray("tokens"), values = logprobs.putArray("token_logprobs");
        ArrayNode top = logprobs.putArray("top_logprobs"), offsets = logprobs.putArray("text_offset");
        int offset = textOffset;
        for (Sampler.Sample sample : samples) {
            String text = tokens.text(sample.token());
            tokenTexts.add(text);
            values.add(sample.logprob());
            ObjectNode alternatives = top.addObject();
            if (sample.topTokens() != null) {
                for (int i = 0; i < sample.topTokens().length; i++) {
                    alternatives.put(tokens.text(sample.topTokens()[i]), sample.topLogprobs()[i]);
                }
            }
            offsets.add(offset);
            offset += text.length();
        }
        return logprobs;
    }
}
