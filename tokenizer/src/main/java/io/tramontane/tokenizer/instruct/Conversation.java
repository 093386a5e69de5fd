package io.tramontane.tokenizer.instruct;

import io.tramontane.tokenizer.TokenizerVersion;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A request in the shape the prompt is written from: consecutive user (and assistant) messages merged, text chunks
 * joined, and per version the v3 system prompt pulled out and tool results put in the order of their calls.
 *
 * @param systemPrompt v3 only: all system messages, joined; written in front of the last user message (or null)
 */
record Conversation(List<ChatMessage> messages, String systemPrompt, List<Tool> tools, boolean continueFinalMessage,
                    String reasoningEffort) {
    private static final String MESSAGE_SEPARATOR = "\n\n";

    static Conversation of(ChatRequest request, TokenizerVersion version) {
        String chunkSeparator = version.atLeast(TokenizerVersion.V15) ? "" : "\n\n";
        List<ChatMessage> merged = new ArrayList<>();
        for (ChatMessage message : request.messages()) {
            ChatMessage current = withContent(message, joinText(message.content(), chunkSeparator));
            ChatMessage previous = merged.isEmpty() ? null : merged.getLast();
            if (current instanceof UserMessage user && previous instanceof UserMessage before) {
                merged.set(merged.size() - 1, new UserMessage(concat(before.content(), user.content())));
            } else if (current instanceof AssistantMessage assistant && previous instanceof AssistantMessage before) {
                List<ToolCall> calls = new ArrayList<>(before.toolCalls());
                calls.addAll(assistant.toolCalls());
                merged.set(merged.size() - 1, new AssistantMessage(concat(before.content(), assistant.content()),
                        calls, assistant.prefix()));
            } else {
                merged.add(current);
            }
        }
        String systemPrompt = null;
        if (version == TokenizerVersion.V3) {
            List<String> systems = merged.stream().filter(SystemMessage.class::isInstance)
                    .map(m -> text(m.content())).toList();
            if (!systems.isEmpty()) systemPrompt = String.join(MESSAGE_SEPARATOR, systems);
            merged.removeIf(SystemMessage.class::isInstance);
            if (!merged.isEmpty() && !(merged.getFirst() instanceof UserMessage)) merged.addFirst(new UserMessage(""));
        }
        if (version.atLeast(TokenizerVersion.V11)) orderResultsAsCalls(merged);
        return new Conversation(merged, systemPrompt, request.tools(), request.continueFinalMessage(),
                request.reasoningEffort());
    }

    /** The text of chunks that hold no thinking (user, system in v3, tool messages). */
    static String text(List<ContentChunk> chunks) {
        StringBuilder text = new StringBuilder();
        for (ContentChunk chunk : chunks) {
            if (chunk instanceof ContentChunk.Text t) text.append(t.text());
        }
        return text.toString();
    }

    private static List<ContentChunk> joinText(List<ContentChunk> chunks, String separator) {
        List<ContentChunk> joined = new ArrayList<>();
        for (ContentChunk chunk : chunks) {
            if (chunk instanceof ContentChunk.Text t && !joined.isEmpty() && joined.getLast() instanceof ContentChunk.Text last) {
                joined.set(joined.size() - 1, new ContentChunk.Text(last.text() + separator + t.text()));
            } else {
                joined.add(chunk);
            }
        }
        return joined;
    }

    private static List<ContentChunk> concat(List<ContentChunk> first, List<ContentChunk> second) {
        List<ContentChunk> all = new ArrayList<>(first);
        for (ContentChunk chunk : second) {
            if (all.size() == first.size() && chunk instanceof ContentChunk.Text t
                    && !all.isEmpty() && all.getLast() instanceof ContentChunk.Text last) {
                all.set(all.size() - 1, new ContentChunk.Text(last.text() + MESSAGE_SEPARATOR + t.text()));
            } else {
                all.add(chunk);
            }
        }
        return all;
    }

    private static ChatMessage withContent(ChatMessage message, List<ContentChunk> content) {
        return switch (message) {
            case SystemMessage s -> new SystemMessage(content);
            case UserMessage u -> new UserMessage(content);
            case AssistantMessage a -> new AssistantMessage(content, a.toolCalls(), a.prefix());
            case ToolMessage t -> new ToolMessage(content, t.toolCallId(), t.name());
        };
    }

    /** From v11 each run of tool results follows the order of the calls it answers. */
    private static void orderResultsAsCalls(List<ChatMessage> messages) {
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.get(i) instanceof AssistantMessage assistant) || assistant.toolCalls().isEmpty()) continue;
            int from = i + 1, to = from;
            while (to < messages.size() && messages.get(to) instanceof ToolMessage) to++;
            List<String> callIds = assistant.toolCalls().stream().map(ToolCall::id).toList();
            List<ChatMessage> results = new ArrayList<>(messages.subList(from, to));
            results.sort(Comparator.comparingInt(m -> position(callIds, ((ToolMessage) m).toolCallId())));
            for (int k = 0; k < results.size(); k++) messages.set(from + k, results.get(k));
        }
    }

    private static int position(List<String> callIds, String id) {
        int index = id == null ? -1 : callIds.indexOf(id);
        return index < 0 ? Integer.MAX_VALUE : index;
    }
}
