package io.tramontane.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Typed reads of optional request fields; a wrong type is a 400 naming the field. Null counts as absent. */
final class RequestFields {
    private final JsonNode root;

    RequestFields(JsonNode root) {
        this.root = root;
    }

    JsonNode root() {
        return root;
    }

    boolean has(String field) {
        JsonNode value = root.get(field);
        return value != null && !value.isNull();
    }

    JsonNode node(String field) {
        JsonNode value = root.get(field);
        return value == null || value.isNull() ? null : value;
    }

    double number(String field, double absent) {
        JsonNode value = node(field);
        if (value == null) return absent;
        if (!value.isNumber()) throw ApiError.invalid(field, field + ": expected a number, got " + value);
        return value.asDouble();
    }

    int integer(String field, int absent) {
        JsonNode value = node(field);
        if (value == null) return absent;
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw ApiError.invalid(field, field + ": expected an integer, got " + value);
        }
        return value.asInt();
    }

    /** The first of several synonyms present (e.g. max_completion_tokens, max_tokens). */
    int integer(String field, String synonym, int absent) {
        return has(field) ? integer(field, absent) : integer(synonym, absent);
    }

    Long longInteger(String field) {
        JsonNode value = node(field);
        if (value == null) return null;
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw ApiError.invalid(field, field + ": expected an integer, got " + value);
        }
        return value.asLong();
    }

    boolean bool(String field, boolean absent) {
        JsonNode value = node(field);
        if (value == null) return absent;
        if (!value.isBoolean()) throw ApiError.invalid(field, field + ": expected true or false, got " + value);
        return value.asBoolean();
    }

    String string(String field) {
        JsonNode value = node(field);
        if (value == null) return null;
        if (!value.isTextual()) throw ApiError.invalid(field, field + ": expected a string, got " + value);
        return value.asText();
    }

    /** A string or a list of strings, as OpenAI's {@code stop}. */
    List<String> strings(String field) {
        JsonNode value = node(field);
        if (value == null) return List.of();
        if (value.isTextual()) return List.of(value.asText());
        if (!value.isArray()) throw ApiError.invalid(field, field + ": expected a string or a list of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode item : value) {
            if (!item.isTextual()) throw ApiError.invalid(field, field + ": expected a list of strings, got " + item);
            out.add(item.asText());
        }
        return out;
    }

    List<Integer> integers(String field) {
        JsonNode value = node(field);
        if (value == null) return List.of();
        if (!value.isArray()) throw ApiError.invalid(field, field + ": expected a list of integers");
        List<Integer> out = new ArrayList<>();
        for (JsonNode item : value) {
            if (!item.isIntegralNumber() || !item.canConvertToInt()) {
                throw ApiError.invalid(field, field + ": expected a list of integers, got " + item);
            }
            out.add(item.asInt());
        }
        return out;
    }

    JsonNode object(String field) {
        JsonNode value = node(field);
        if (value != null && !value.isObject()) throw ApiError.invalid(field, field + ": expected an object, got " + value);
        return value;
    }
}
