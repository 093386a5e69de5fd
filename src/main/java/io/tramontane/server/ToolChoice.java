package io.tramontane.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.tokenizer.instruct.Tool;
import java.util.List;

/** OpenAI's {@code tool_choice}: {@code auto}, {@code none}, {@code required}, or one named function. */
sealed interface ToolChoice {
    record Auto() implements ToolChoice {}

    record None() implements ToolChoice {}

    record Required() implements ToolChoice {}

    record Named(String name) implements ToolChoice {}

    /** Absent means {@code auto} with tools and {@code none} without (OpenAI's defaults). */
    static ToolChoice read(JsonNode node, List<Tool> tools) {
        if (node == null || node.isNull()) return tools.isEmpty() ? new None() : new Auto();
        ToolChoice choice;
        if (node.isTextual()) {
            choice = switch (node.asText()) {
                case "auto" -> new Auto();
                case "none" -> new None();
                case "required" -> new Required();
                default -> throw ApiError.invalid("tool_choice", "tool_choice: '" + node.asText()
                        + "' is not one of auto, none, required or {\"type\": \"function\", \"function\": {\"name\": ...}}");
            };
        } else if (node.isObject() && node.path("function").path("name").isTextual()) {
            String name = node.path("function").path("name").asText();
            if (tools.stream().noneMatch(tool -> tool.name().equals(name))) {
                throw ApiError.invalid("tool_choice", "tool_choice names the function '" + name
                        + "', which is not in tools");
            }
            choice = new Named(name);
        } else {
            throw ApiError.invalid("tool_choice",
                    "tool_choice: expected a string or {\"type\": \"function\", \"function\": {\"name\": ...}}");
        }
        if (tools.isEmpty() && !(choice instanceof None) && !(choice instanceof Auto)) {
            throw ApiError.invalid("tool_choice", "tool_choice '" + node + "' needs tools");
        }
        return choice;
    }
}
