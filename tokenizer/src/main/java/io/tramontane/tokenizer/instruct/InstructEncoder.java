package io.tramontane.tokenizer.instruct;

import static io.tramontane.tokenizer.TokenizerVersion.V11;
import static io.tramontane.tokenizer.TokenizerVersion.V13;
import static io.tramontane.tokenizer.TokenizerVersion.V15;
import static io.tramontane.tokenizer.TokenizerVersion.V3;
import static io.tramontane.tokenizer.TokenizerVersion.V7;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.tokenizer.ModelSettings;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.TokenizerVersion;
import java.util.List;

/**
 * Chat requests to prompt ids in the Mistral instruct format of the tokenizer's version (v3, v7, v11, v13, v15),
 * starting with BOS. Thread-safe.
 */
public final class InstructEncoder {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final Tekken tekken;
    private final TokenizerVersion version;
    private final ModelSettings settings;
    private final ChatValidator validator;

    public InstructEncoder(Tekken tekken) {
        this.tekken = tekken;
        this.version = tekken.version();
        this.settings = tekken.file().modelSettings() != null ? tekken.file().modelSettings() : ModelSettings.standard();
        this.validator = new ChatValidator(version, settings);
    }

    /**
     * The prompt for the model to answer (or continue): the conversation must end with a user or tool message,
     * or an assistant message with {@code prefix} (or {@code continue_final_message}).
     *
     * @throws InvalidRequestException when Mistral's own stack would reject the conversation
     */
    public int[] encodePrompt(ChatRequest request) {
        validator.validate(request, true);
        return encode(Conversation.of(request, version));
    }

    /** A whole conversation (e.g. history or training data): validated like a prompt except for how it ends. */
    public int[] encodeConversation(ChatRequest request) {
        validator.validate(request, false);
        return encode(Conversation.of(request, version));
    }

    /** Writes an already normalised conversation as given (no merging, no moving, no validation). */
    int[] encode(Conversation conversation) {
        List<ChatMessage> messages = conversation.messages();
        int firstUser = -1, lastUser = -1;
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i) instanceof UserMessage) {
                if (firstUser < 0) firstUser = i;
                lastUser = i;
            }
        }
        int toolsAt = version.atLeast(V13) ? firstUser : lastUser;
        PromptBuilder prompt = new PromptBuilder(tekken).control("<s>");
        for (int i = 0; i < messages.size(); i++) {
            boolean last = i == messages.size() - 1;
            switch (messages.get(i)) {
                case SystemMessage system -> prompt.control("[SYSTEM_PROMPT]").chunks(system.content())
                        .control("[/SYSTEM_PROMPT]");
                case UserMessage user -> {
                    if (i == toolsAt && !conversation.tools().isEmpty()) {
                        prompt.control("[AVAILABLE_TOOLS]").json(tools(conversation.tools()))
                                .control("[/AVAILABLE_TOOLS]");
                    }
                    if (version.atLeast(V15) && i == firstUser) {
                        String effort = conversation.reasoningEffort() != null ? conversation.reasoningEffort()
                                : settings.defaultReasoningEffort();
                        prompt.control("[MODEL_SETTINGS]").json(NODES.objectNode().put("reasoning_effort", effort))
                                .control("[/MODEL_SETTINGS]");
                    }
                    String text = Conversation.text(user.content());
                    if (i == lastUser && conversation.systemPrompt() != null) {
                        text = conversation.systemPrompt() + "\n\n" + text;
                    }
                    prompt.control("[INST]").text(text).control("[/INST]");
                }
                case AssistantMessage assistant -> {
                    assistant(prompt, assistant);
                    if (!(last && (assistant.prefix() || conversation.continueFinalMessage()))) prompt.control("</s>");
                }
                case ToolMessage tool -> toolResult(prompt, tool);
            }
        }
        return prompt.toArray();
    }

    private void assistant(PromptBuilder prompt, AssistantMessage message) {
        if (ContentChunk.hasThinking(message.content())) {
            prompt.chunks(message.content());
        } else {
            prompt.text(stripTrailingSpaces(Conversation.text(message.content())));
        }
        if (message.toolCalls().isEmpty()) return;
        if (version.atLeast(V11)) {
            for (ToolCall call : message.toolCalls()) {
                prompt.control("[TOOL_CALLS]").text(call.name());
                if (version == V11) prompt.control("[CALL_ID]").text(call.id());
                prompt.control("[ARGS]").json(arguments(call));
            }
        } else {
            ArrayNode calls = NODES.arrayNode();
            for (ToolCall call : message.toolCalls()) {
                ObjectNode written = calls.addObject().put("name", call.name()).set("arguments", arguments(call));
                if (call.id() != null) written.put("id", call.id());
            }
            prompt.control("[TOOL_CALLS]").json(calls);
        }
    }

    private void toolResult(PromptBuilder prompt, ToolMessage tool) {
        String content = Conversation.text(tool.content());
        prompt.control("[TOOL_RESULTS]");
        if (version == V3) {
            ObjectNode result = NODES.objectNode();
            result.set("content", PythonJson.parse(content).orElseGet(() -> NODES.textNode(content)));
            if (tool.toolCallId() != null) result.put("call_id", tool.toolCallId());
            prompt.json(result);
        } else if (version == V7 || version == V11) {
            prompt.text(tool.toolCallId()).control("[TOOL_CONTENT]").text(content);
        } else {
            prompt.text(content);
        }
        prompt.control("[/TOOL_RESULTS]");
    }

    private static ArrayNode tools(List<Tool> tools) {
        ArrayNode written = NODES.arrayNode();
        for (Tool tool : tools) {
            ObjectNode function = NODES.objectNode().put("name", tool.name()).put("description", tool.description());
            function.set("parameters", tool.parameters());
            written.addObject().put("type", "function").set("function", function);
        }
        return written;
    }

    private static JsonNode arguments(ToolCall call) {
        if (call.arguments().isBlank()) return NODES.objectNode();
        return PythonJson.parse(call.arguments()).orElseThrow(() -> new InvalidRequestException(
                "tool call " + call.name() + ": arguments are not valid JSON: " + call.arguments()));
    }

    /** Assistant text loses trailing spaces (U+0020 only), as in mistral-common. */
    private static String stripTrailingSpaces(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == ' ') end--;
        return text.substring(0, end);
    }
}
