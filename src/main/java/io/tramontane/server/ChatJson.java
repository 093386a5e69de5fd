package io.tramontane.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.sampling.Sampler;
import io.tramontane.tokenizer.instruct.ChatDelta;
import java.util.List;

/** OpenAI chat completion JSON: whole responses ({@code chat.completion}) and stream chunks. */
final class ChatJson {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final String id;
    private final long created;
    private final String model;
    private final TokenJson tokens;

    ChatJson(String id, long created, String model, TokenJson tokens) {
        this.id = id;
        this.created = created;
        this.model = model;
        this.tokens = tokens;
    }

    ObjectNode response(List<ChatChoice> choices, ObjectNode usage, boolean logprobs) {
        ObjectNode root = header("chat.completion");
        ArrayNode array = root.putArray("choices");
        for (ChatChoice choice : choices) {
            ObjectNode item = array.addObject();
            item.put("index", choice.index);
            item.set("message", message(choice));
            item.set("logprobs", logprobs ? logprobs(choice.takeSamples()) : NODES.nullNode());
            item.put("finish_reason", choice.finishReason());
        }
        root.set("usage", usage);
        return root;
    }

    private ObjectNode message(ChatChoice choice) {
        ObjectNode message = NODES.objectNode();
        message.put("role", "assistant");
        // OpenAI sends null content next to tool calls, and "" for an empty answer
        if (choice.content().isEmpty() && !choice.calls().isEmpty()) message.putNull("content");
        else message.put("content", choice.content());
        if (!choice.reasoning().isEmpty()) message.put("reasoning_content", choice.reasoning());
        if (!choice.calls().isEmpty()) {
            ArrayNode calls = message.putArray("tool_calls");
            for (ChatChoice.Call call : choice.calls()) {
                ObjectNode item = calls.addObject();
                item.put("id", call.id());
                item.put("type", "function");
                ObjectNode function = item.putObject("function");
                function.put("name", call.name());
                function.put("arguments", call.arguments().isEmpty() ? "{}" : call.arguments().toString());
            }
        }
        return message;
    }

    /** The first chunk of a choice: the role, as OpenAI opens every streamed message. */
    ObjectNode roleChunk(int index, boolean includeUsage) {
        ObjectNode delta = NODES.objectNode();
        delta.put("role", "assistant");
        delta.put("content", "");
        return chunk(index, delta, null, null, includeUsage);
    }

    /** One delta of one choice, with the logprobs of the tokens it came from (null when not asked). */
    ObjectNode deltaChunk(int index, ChatDelta change, List<Sampler.Sample> samples, boolean includeUsage) {
        ObjectNode delta = NODES.objectNode();
        switch (change) {
            case ChatDelta.Content c -> delta.put("content", c.text());
            case ChatDelta.Thinking t -> delta.put("reasoning_content", t.text());
            case ChatDelta.ToolCallStart s -> {
                ObjectNode call = delta.putArray("tool_calls").addObject();
                call.put("index", s.index());
                call.put("id", s.id());
                call.put("type", "function");
                ObjectNode function = call.putObject("function");
                function.put("name", s.name());
                function.put("arguments", "");
            }
            case ChatDelta.ToolCallArguments a -> {
                ObjectNode call = delta.putArray("tool_calls").addObject();
                call.put("index", a.index());
                call.putObject("function").put("arguments", a.json());
            }
        }
        return chunk(index, delta, samples, null, includeUsage);
    }

    /** The last chunk of a choice: an empty delta with its finish reason. */
    ObjectNode finishChunk(ChatChoice choice, List<Sampler.Sample> samples, boolean includeUsage) {
        return chunk(choice.index, NODES.objectNode(), samples, choice.finishReason(), includeUsage);
    }

    /** With {@code stream_options.include_usage}: after every choice finished, no choices and the usage. */
    ObjectNode usageChunk(ObjectNode usage) {
        ObjectNode root = header("chat.completion.chunk");
        root.putArray("choices");
        root.set("usage", usage);
        return root;
    }

    private ObjectNode chunk(int index, ObjectNode delta, List<Sampler.Sample> samples, String finishReason,
                             boolean includeUsage) {
        ObjectNode root = header("chat.completion.chunk");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", index);
        choice.set("delta", delta);
        choice.set("logprobs", samples == null ? NODES.nullNode() : logprobs(samples));
        choice.put("finish_reason", finishReason);
        if (includeUsage) root.putNull("usage");
        return root;
    }

    private ObjectNode logprobs(List<Sampler.Sample> samples) {
        ObjectNode logprobs = NODES.objectNode();
        ArrayNode content = logprobs.putArray("content");
        for (Sampler.Sample sample : samples) {
            ObjectNode entry = tokens.entry(sample.token(), sample.logprob());
            ArrayNode top = entry.putArray("top_logprobs");
            if (sample.topTokens() != null) {
                for (int i = 0; i < sample.topTokens().length; i++) {
                    top.add(tokens.entry(sample.topTokens()[i], sample.topLogprobs()[i]));
                }
            }
            content.add(entry);
        }
        return logprobs;
    }

    private ObjectNode header(String object) {
        ObjectNode root = NODES.objectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        return root;
    }

    static ObjectNode usage(int promptTokens, int completionTokens) {
        ObjectNode usage = NODES.objectNode();
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
        return usage;
    }
}
