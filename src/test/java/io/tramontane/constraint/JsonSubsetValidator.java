package io.tramontane.constraint;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * An independent check of a JSON value against the schema subset the compiler supports, written from the
 * JSON Schema spec rather than from the compiler: type (and lists), enum, const, properties, required,
 * additionalProperties, items, min/maxItems, min/maxLength, anyOf, local $ref, boolean schemas.
 */
final class JsonSubsetValidator {
    private final JsonNode root;

    private JsonSubsetValidator(JsonNode root) {
        this.root = root;
    }

    /** The violations of {@code schema} by {@code value}; empty when it validates. */
    static List<String> violations(JsonNode value, JsonNode schema) {
        List<String> out = new ArrayList<>();
        new JsonSubsetValidator(schema).check(value, schema, "$", out);
        return out;
    }

    private void check(JsonNode value, JsonNode schema, String at, List<String> out) {
        if (schema.isBoolean()) {
            if (!schema.booleanValue()) out.add(at + ": false schema");
            return;
        }
        if (schema.has("$ref")) {
            check(value, root.at(JsonPointer.compile(schema.get("$ref").asText().substring(1))), at, out);
            return;
        }
        JsonNode type = schema.get("type");
        if (type != null) {
            boolean any = false;
            for (JsonNode t : type.isArray() ? type : List.of(type)) any |= hasType(value, t.asText());
            if (!any) out.add(at + ": not of type " + type);
        }
        if (schema.has("const") && !same(value, schema.get("const"))) out.add(at + ": not the const");
        if (schema.has("enum")) {
            boolean found = false;
            for (JsonNode e : schema.get("enum")) found |= same(value, e);
            if (!found) out.add(at + ": not in enum");
        }
        if (schema.has("anyOf")) {
            boolean matched = false;
            for (JsonNode branch : schema.get("anyOf")) {
                List<String> branchErrors = new ArrayList<>();
                check(value, branch, at, branchErrors);
                matched |= branchErrors.isEmpty();
            }
            if (!matched) out.add(at + ": matches no anyOf branch");
        }
        if (value.isObject()) checkObject(value, schema, at, out);
        if (value.isArray()) {
            if (schema.has("items")) for (int i = 0; i < value.size(); i++) check(value.get(i), schema.get("items"), at + "[" + i + "]", out);
            if (schema.has("minItems") && value.size() < schema.get("minItems").asInt()) out.add(at + ": too few items");
            if (schema.has("maxItems") && value.size() > schema.get("maxItems").asInt()) out.add(at + ": too many items");
        }
        if (value.isTextual()) {
            int length = value.asText().codePointCount(0, value.asText().length());
            if (schema.has("minLength") && length < schema.get("minLength").asInt()) out.add(at + ": too short");
            if (schema.has("maxLength") && length > schema.get("maxLength").asInt()) out.add(at + ": too long");
        }
    }

    private void checkObject(JsonNode value, JsonNode schema, String at, List<String> out) {
        JsonNode properties = schema.path("properties");
        for (JsonNode name : schema.path("required")) if (!value.has(name.asText())) out.add(at + ": missing " + name);
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            var member = it.next();
            if (properties.has(member.getKey())) {
                check(member.getValue(), properties.get(member.getKey()), at + "." + member.getKey(), out);
            } else if (schema.has("additionalProperties")) {
                check(member.getValue(), schema.get("additionalProperties"), at + "." + member.getKey(), out);
            }
        }
    }

    private static boolean hasType(JsonNode value, String type) {
        return switch (type) {
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            case "string" -> value.isTextual();
            case "number" -> value.isNumber();
            case "integer" -> value.isIntegralNumber() || value.isNumber() && value.decimalValue().stripTrailingZeros().scale() <= 0;
            case "boolean" -> value.isBoolean();
            case "null" -> value.isNull();
            default -> throw new IllegalArgumentException(type);
        };
    }

    /** JSON equality, numbers by value (1 equals 1.0). */
    private static boolean same(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) return a.decimalValue().compareTo(b.decimalValue()) == 0;
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) return false;
            for (int i = 0; i < a.size(); i++) if (!same(a.get(i), b.get(i))) return false;
            return true;
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) return false;
            for (Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!b.has(name) || !same(a.get(name), b.get(name))) return false;
            }
            return true;
        }
        return a.equals(b);
    }
}
