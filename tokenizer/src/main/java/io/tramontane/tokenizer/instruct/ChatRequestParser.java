package io.tramontane.tokenizer.instruct;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/** OpenAI chat request JSON to {@link ChatRequest}; errors name the JSON path of the offending field. */
final class ChatRequestParser {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatRequestParser() {}

    static ChatRequest parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new InvalidRequestException("request is not valid JSON: " + e.getOriginalMessage());
        }
        return parse(root);
    }

    static ChatRequest parse(JsonNode root) {
        if (root == null || !root.isObject()) throw new InvalidRequestException("request: expected a JSON object");
        JsonNode messagesNode = root.get("messages");
        if (messagesNode == null || !messagesNode.isArray()) {
            throw new InvalidRequestException("messages: expected a list of messages");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < messagesNode.size(); i++) messages.add(message(messagesNode.get(i), "messages[" + i + "]"));

        List<Tool> tools = new ArrayList<>();
        JsonNode toolsNode = root.get("tools");
        if (toolsNode != null && !toolsNode.isNull()) {
            if (!toolsNode.isArray()) throw new InvalidRequestException("tools: expected a list");
            for (int i = 0; i < toolsNode.size(); i++) tools.add(tool(toolsNode.get(i), "tools[" + i + "]"));
        }
        boolean continueFinal = bool(root, "continue_final_message", "continue_final_message");
        String effort = optionalString(root, "reasoning_effort", "reasoning_effort");
        return new ChatRequest(messages, tools, continueFinal, effort);
    }

    private static ChatMessage message(JsonNode node, String path) {
        if (node == null || !node.isObject()) throw new InvalidRequestException(path + ": expected an object");
        String role = string(node, "role", path + ".role");
        List<ContentChunk> content = content(node.get("content"), path + ".content");
        return switch (role) {
            case "system", "developer" -> new SystemMessage(content);
            case "user" -> new UserMessage(content);
            case "assistant" -> new AssistantMessage(content, toolCalls(node.get("tool_calls"), path + ".tool_calls"),
                    bool(node, "prefix", path + ".prefix"));
            case "tool" -> new ToolMessage(content, optionalString(node, "tool_call_id", path + ".tool_call_id"),
                    optionalString(node, "name", path + ".name"));
            default -> throw new InvalidRequestException(path + ".role: '" + role
                    + "' is not one of system, user, assistant, tool");
        };
    }

    private static List<ContentChunk> content(JsonNode node, String path) {
        if (node == null || node.isNull()) return List.of();
        if (node.isTextual()) return ContentChunk.of(node.asText());
        if (!node.isArray()) throw new InvalidRequestException(path + ": expected a string, a list of chunks or null");
        List<ContentChunk> chunks = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode chunk = node.get(i);
            String chunkPath = path + "[" + i + "]";
            if (chunk == null || !chunk.isObject()) throw new InvalidRequestException(chunkPath + ": expected an object");
            String type = string(chunk, "type", chunkPath + ".type");
            chunks.add(switch (type) {
                case "text" -> new ContentChunk.Text(string(chunk, "text", chunkPath + ".text"));
                case "thinking" -> new ContentChunk.Thinking(thinkingText(chunk, chunkPath),
                        !chunk.has("closed") || bool(chunk, "closed", chunkPath + ".closed"));
                default -> throw new InvalidRequestException(chunkPath + ".type: '" + type
                        + "' is not supported (text or thinking)");
            });
        }
        return chunks;
    }

    /** Mistral's thinking chunk carries its text as a string or as a list of text chunks. */
    private static String thinkingText(JsonNode chunk, String path) {
        JsonNode thinking = chunk.get("thinking");
        if (thinking != null && thinking.isArray()) {
            StringBuilder text = new StringBuilder();
            for (ContentChunk part : content(thinking, path + ".thinking")) {
                if (!(part instanceof ContentChunk.Text t)) {
                    throw new InvalidRequestException(path + ".thinking: only text chunks may be nested");
                }
                text.append(t.text());
            }
            return text.toString();
        }
        return string(chunk, "thinking", path + ".thinking");
    }

    private static List<ToolCall> toolCalls(JsonNode node, String path) {
        if (node == null || node.isNull()) return List.of();
        if (!node.isArray()) throw new InvalidRequestException(path + ": expected a list of tool calls");
        List<ToolCall> calls = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode call = node.get(i);
            String callPath = path + "[" + i + "]";
            if (call == null || !call.isObject()) throw new InvalidRequestException(callPath + ": expected an object");
            JsonNode function = call.get("function");
            if (function == null || !function.isObject()) {
                throw new InvalidRequestException(callPath + ".function: expected an object with name and arguments");
            }
            JsonNode arguments = function.get("arguments");
            String argumentsText;
            if (arguments == null || arguments.isNull()) argumentsText = "";
            else if (arguments.isTextual()) argumentsText = arguments.asText();
            else if (arguments.isObject()) argumentsText = arguments.toString();
            else throw new InvalidRequestException(callPath + ".function.arguments: expected a JSON string");
            calls.add(new ToolCall(optionalString(call, "id", callPath + ".id"),
                    string(function, "name", callPath + ".function.name"), argumentsText));
        }
        return calls;
    }

    private static Tool tool(JsonNode node, String path) {
        if (node == null || !node.isObject()) throw new InvalidRequestException(path + ": expected an object");
        String type = optionalString(node, "type", path + ".type");
        if (type != null && !type.equals("function")) {
            throw new InvalidRequestException(path + ".type: '" + type + "' is not supported (function)");
        }
        JsonNode function = node.get("function");
        if (function == null || !function.isObject()) {
            throw new InvalidRequestException(path + ".function: expected an object with name and parameters");
        }
        JsonNode parameters = function.get("parameters");
        if (parameters != null && parameters.isNull()) parameters = null;
        if (parameters != null && !parameters.isObject()) {
            throw new InvalidRequestException(path + ".function.parameters: expected a JSON schema object");
        }
        return new Tool(string(function, "name", path + ".function.name"),
                optionalString(function, "description", path + ".function.description"), parameters);
    }

    private static String string(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) throw new InvalidRequestException(path + ": expected a string");
        return value.asText();
    }

    private static String optionalString(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) return null;
        if (!value.isTextual()) throw new InvalidRequestException(path + ": expected a string or null");
        return value.asText();
    }

    private static boolean bool(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) return false;
        if (!value.isBoolean()) throw new InvalidRequestException(path + ": expected true or false");
        return value.asBoolean();
    }
}
