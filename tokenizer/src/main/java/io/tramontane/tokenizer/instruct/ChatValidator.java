package io.tramontane.tokenizer.instruct;

import io.tramontane.tokenizer.ModelSettings;
import io.tramontane.tokenizer.TokenizerVersion;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** The conversation rules of Mistral's own request validation, with errors that name the message and field. */
final class ChatValidator {
    private static final Pattern NINE_ALPHANUMERIC = Pattern.compile("[a-zA-Z0-9]{9}");
    private static final Pattern FUNCTION_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    private final TokenizerVersion version;
    private final ModelSettings settings;

    ChatValidator(TokenizerVersion version, ModelSettings settings) {
        this.version = version;
        this.settings = settings;
    }

    /** @param forGeneration true when the prompt is to be continued by the model (it must end where it may answer) */
    void validate(ChatRequest request, boolean forGeneration) {
        List<ChatMessage> messages = request.messages();
        if (messages.isEmpty()) throw new InvalidRequestException("messages: must not be empty");
        for (int i = 0; i < request.tools().size(); i++) {
            String name = request.tools().get(i).name();
            if (!FUNCTION_NAME.matcher(name).matches()) {
                throw new InvalidRequestException("tools[" + i + "].function.name: '" + name
                        + "' must be 1 to 64 characters a-z, A-Z, 0-9, '_' or '-'");
            }
        }
        validateReasoningEffort(request.reasoningEffort());

        AssistantMessage pendingCalls = null;
        int pendingIndex = -1, results = 0;
        Set<String> answered = new HashSet<>();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage message = messages.get(i);
            String path = "messages[" + i + "]";
            if (i > 0) checkOrder(messages.get(i - 1), message, path);
            if (!(message instanceof ToolMessage) && pendingCalls != null) {
                checkAllAnswered(pendingCalls, pendingIndex, results);
                pendingCalls = null;
            }
            switch (message) {
                case SystemMessage system -> checkThinking(system.content(), path, version == TokenizerVersion.V13);
                case UserMessage user -> checkThinking(user.content(), path, false);
                case AssistantMessage assistant -> {
                    checkAssistant(assistant, i == messages.size() - 1, request.continueFinalMessage(), path);
                    if (!assistant.toolCalls().isEmpty()) {
                        pendingCalls = assistant;
                        pendingIndex = i;
                        results = 0;
                        answered.clear();
                    }
                }
                case ToolMessage tool -> {
                    checkThinking(tool.content(), path, false);
                    if (pendingCalls == null) {
                        throw new InvalidRequestException(path + ": a tool message must follow an assistant message "
                                + "with tool_calls");
                    }
                    checkToolResult(tool, pendingCalls, answered, path);
                    results++;
                }
            }
        }
        if (pendingCalls != null && results > 0) checkAllAnswered(pendingCalls, pendingIndex, results);
        ChatMessage last = messages.getLast();
        if (request.continueFinalMessage() && !(last instanceof AssistantMessage)) {
            throw new InvalidRequestException("continue_final_message: the last message must be an assistant message, "
                    + "not " + last.role());
        }
        if (forGeneration) checkEnding(last, request.continueFinalMessage(), messages.size() - 1);
    }

    private void validateReasoningEffort(String effort) {
        if (effort == null) return;
        if (!version.atLeast(TokenizerVersion.V15)) {
            throw new InvalidRequestException("reasoning_effort: needs tokenizer v15, this one is " + version.label());
        }
        if (!settings.reasoningEffortValues().contains(effort)) {
            throw new InvalidRequestException("reasoning_effort: '" + effort + "' is not one of "
                    + settings.reasoningEffortValues());
        }
    }

    private static void checkOrder(ChatMessage previous, ChatMessage current, String path) {
        boolean allowed = switch (previous) {
            case SystemMessage s -> !(current instanceof ToolMessage);
            case UserMessage u -> !(current instanceof ToolMessage);
            case AssistantMessage a -> !(current instanceof SystemMessage);
            case ToolMessage t -> current instanceof AssistantMessage || current instanceof ToolMessage;
        };
        if (!allowed) {
            throw new InvalidRequestException(path + ": a " + current.role() + " message cannot follow a "
                    + previous.role() + " message");
        }
    }

    private void checkThinking(List<ContentChunk> content, String path, boolean allowed) {
        if (!allowed && ContentChunk.hasThinking(content)) {
            throw new InvalidRequestException(path + ".content: thinking chunks are not allowed here"
                    + " (tokenizer " + version.label() + ")");
        }
    }

    private void checkAssistant(AssistantMessage message, boolean last, boolean continueFinal, String path) {
        checkThinking(message.content(), path, version.atLeast(TokenizerVersion.V13));
        if (message.prefix() && !last) {
            throw new InvalidRequestException(path + ".prefix: only the last message may be a prefix");
        }
        boolean hasText = message.content().stream().anyMatch(c -> !(c instanceof ContentChunk.Text t) || !t.text().isEmpty());
        boolean open = last && (message.prefix() || continueFinal);
        if (!hasText && message.toolCalls().isEmpty() && !open) {
            throw new InvalidRequestException(path + ": an assistant message needs content or tool_calls");
        }
        if (version == TokenizerVersion.V3 && hasText && !message.toolCalls().isEmpty()) {
            throw new InvalidRequestException(path + ": tokenizer v3 cannot write content and tool_calls "
                    + "in one assistant message");
        }
        Set<String> ids = new HashSet<>();
        for (int j = 0; j < message.toolCalls().size(); j++) {
            ToolCall call = message.toolCalls().get(j);
            String callPath = path + ".tool_calls[" + j + "]";
            if (call.name().isEmpty()) throw new InvalidRequestException(callPath + ".function.name: must not be empty");
            if (!call.arguments().isBlank() && PythonJson.parse(call.arguments()).isEmpty()) {
                throw new InvalidRequestException(callPath + ".function.arguments: not valid JSON: " + call.arguments());
            }
            if (writesCallIds() && (call.id() == null || !NINE_ALPHANUMERIC.matcher(call.id()).matches())) {
                throw new InvalidRequestException(callPath + ".id: '" + call.id() + "' must be 9 characters "
                        + "a-z, A-Z, 0-9 (tokenizer " + version.label() + ")");
            }
            if (call.id() != null && !ids.add(call.id())) {
                throw new InvalidRequestException(callPath + ".id: '" + call.id() + "' is used twice in this message");
            }
        }
    }

    private void checkToolResult(ToolMessage tool, AssistantMessage calls, Set<String> answered, String path) {
        String id = tool.toolCallId();
        if (id == null) {
            if (writesCallIds()) {
                throw new InvalidRequestException(path + ".tool_call_id: required (tokenizer " + version.label() + ")");
            }
            return;
        }
        if (calls.toolCalls().stream().noneMatch(call -> id.equals(call.id()))) {
            throw new InvalidRequestException(path + ".tool_call_id: '" + id + "' matches no call of the assistant "
                    + "message before it");
        }
        if (!answered.add(id)) {
            throw new InvalidRequestException(path + ".tool_call_id: call '" + id + "' already has a result");
        }
    }

    private static void checkAllAnswered(AssistantMessage calls, int index, int results) {
        if (results != calls.toolCalls().size()) {
            throw new InvalidRequestException("messages[" + index + "]: " + calls.toolCalls().size()
                    + " tool calls but " + results + " tool results follow");
        }
    }

    private static void checkEnding(ChatMessage last, boolean continueFinal, int index) {
        boolean ok = last instanceof UserMessage || last instanceof ToolMessage
                || (last instanceof AssistantMessage assistant && (assistant.prefix() || continueFinal));
        if (!ok) {
            throw new InvalidRequestException("messages[" + index + "]: a prompt must end with a user or tool message, "
                    + "or an assistant message with prefix: true (or set continue_final_message)");
        }
    }

    /** Versions that write call ids into the prompt need ids the model can reproduce. */
    private boolean writesCallIds() {
        return !version.atLeast(TokenizerVersion.V13);
    }
}
