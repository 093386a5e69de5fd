package io.tramontane.server;

import com.fasterxml.jackson.databind.JsonNode;

/** OpenAI's {@code response_format}: free text, any JSON object, or JSON matching a schema. */
sealed interface ResponseFormat {
    record Text() implements ResponseFormat {}

    record JsonObject() implements ResponseFormat {}

    record JsonSchema(String name, JsonNode schema) implements ResponseFormat {}

    static ResponseFormat read(JsonNode node) {
        if (node == null || node.isNull()) return new Text();
        if (!node.isObject() || !node.path("type").isTextual()) {
            throw ApiError.invalid("response_format", "response_format: expected {\"type\": \"text\" | \"json_object\" | \"json_schema\"}");
        }
        return switch (node.get("type").asText()) {
            case "text" -> new Text();
            case "json_object" -> new JsonObject();
            case "json_schema" -> {
                JsonNode spec = node.path("json_schema");
                JsonNode schema = spec.path("schema");
                if (!schema.isObject()) {
                    throw ApiError.invalid("response_format", "response_format.json_schema.schema: expected a JSON schema object");
                }
                yield new JsonSchema(spec.path("name").asText("response"), schema);
            }
            default -> throw ApiError.invalid("response_format", "response_format.type: '" + node.get("type").asText()
                    + "' is not one of text, json_object, json_schema");
        };
    }
}
