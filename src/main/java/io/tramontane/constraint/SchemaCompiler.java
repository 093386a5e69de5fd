package io.tramontane.constraint;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns a JSON Schema (the subset in docs/structured-output.md) into grammar nodes. Keywords that assert
 * something this compiler cannot enforce are rejected with a {@link ConstraintException} naming them;
 * annotations and unknown keywords are ignored, as JSON Schema says. Not thread-safe: one per compilation.
 */
final class SchemaCompiler {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Keywords that constrain values but are not enforced here: a schema using them is refused, not loosened. */
    private static final Set<String> UNSUPPORTED = Set.of("pattern", "allOf", "oneOf", "not", "if", "then", "else",
            "patternProperties", "propertyNames", "dependentRequired", "dependentSchemas", "dependencies", "minimum",
            "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minProperties", "maxProperties",
            "contains", "minContains", "maxContains", "prefixItems", "additionalItems", "unevaluatedItems",
            "unevaluatedProperties", "$dynamicRef", "$recursiveRef");
    /** Keywords this compiler enforces; next to {@code $ref} or {@code anyOf} they would need merging, which it does not do. */
    private static final Set<String> ASSERTIONS = Set.of("type", "properties", "required", "additionalProperties",
            "items", "enum", "const", "minItems", "maxItems", "minLength", "maxLength", "anyOf", "$ref");
    private static final List<String> TYPES = List.of("object", "array", "string", "number", "integer", "boolean", "null");

    private final ConstraintLimits limits;
    private final JsonNode root;
    private final Deque<String> refsInProgress = new ArrayDeque<>();
    private final Node[] anyByDepth;
    private final StringShape keys;

    SchemaCompiler(ConstraintLimits limits, JsonNode root) {
        this.limits = limits;
        this.root = root;
        this.anyByDepth = new Node[limits.maxDepth() + 1];
        this.keys = new StringShape(0, limits.maxStringLength());
    }

    /** The whole schema. */
    Node compile() {
        return compile(root, "");
    }

    /** Any JSON object: {@code response_format: json_object}. */
    Node anyObject() {
        return new MapShape(keys, any(limits.maxDepth() - 1), limits.maxObjectMembers());
    }

    /** Tool arguments: the schema, read as an object schema when it names no type. */
    Node compileArguments() {
        if (root.isObject() && !root.has("type") && !root.has("anyOf") && !root.has("$ref")
                && !root.has("enum") && !root.has("const")) {
            return object(root, "");
        }
        return compile(root, "");
    }

    private Node compile(JsonNode schema, String path) {
        if (schema.isBoolean()) {
            if (schema.booleanValue()) return any(limits.maxDepth());
            throw new ConstraintException("false", path, "the schema false allows no value");
        }
        if (!schema.isObject()) throw new ConstraintException("schema", path, "a schema must be a JSON object or a boolean");
        for (var names = schema.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (UNSUPPORTED.contains(name)) {
                throw new ConstraintException(name, path, "JSON Schema keyword '" + name + "' is not supported");
            }
        }
        if (schema.path("uniqueItems").asBoolean(false)) {
            throw new ConstraintException("uniqueItems", path, "uniqueItems: true is not supported");
        }
        if (schema.has("$ref")) return reference(schema, path);
        Set<String> types = types(schema, path);
        if (schema.has("const")) return literals(List.of(schema.get("const")), types, "const", path);
        if (schema.has("enum")) {
            JsonNode values = schema.get("enum");
            if (!values.isArray() || values.isEmpty()) throw new ConstraintException("enum", path, "enum must be a non-empty array");
            List<JsonNode> list = new ArrayList<>();
            values.forEach(list::add);
            return literals(list, types, "enum", path);
        }
        if (schema.has("anyOf")) return anyOf(schema, path);
        if (types == null) types = impliedTypes(schema);
        if (types == null) return any(limits.maxDepth());
        List<Node> alternatives = new ArrayList<>();
        for (String type : types) {
            if (type.equals("integer") && types.contains("number")) continue;  // number already admits integers
            alternatives.add(switch (type) {
                case "object" -> object(schema, path);
                case "array" -> array(schema, path);
                case "string" -> string(schema, path);
                case "number" -> new NumberShape(false, limits.maxIntegerDigits(), limits.maxFractionDigits());
                case "integer" -> new NumberShape(true, limits.maxIntegerDigits(), 0);
                case "boolean" -> TrieShape.literals(List.of(bytes("true"), bytes("false")));
                default -> TrieShape.literal("null");
            });
        }
        return union(alternatives, "type", path);
    }

    /** The types named by {@code type} (a string or a list), or null when absent. */
    private static Set<String> types(JsonNode schema, String path) {
        JsonNode type = schema.get("type");
        if (type == null) return null;
        Set<String> types = new LinkedHashSet<>();
        for (JsonNode t : type.isArray() ? type : List.of(type)) {
            if (!t.isTextual() || !TYPES.contains(t.asText())) {
                throw new ConstraintException("type", path, "type must be one of " + TYPES + " or a list of them, got " + t);
            }
            types.add(t.asText());
        }
        if (types.isEmpty()) throw new ConstraintException("type", path, "type must not be an empty list");
        return types;
    }

    /** The type the other keywords imply when {@code type} is absent, or null (any value). */
    private static Set<String> impliedTypes(JsonNode schema) {
        if (schema.has("properties") || schema.has("required") || schema.has("additionalProperties")) return Set.of("object");
        if (schema.has("items") || schema.has("minItems") || schema.has("maxItems")) return Set.of("array");
        if (schema.has("minLength") || schema.has("maxLength")) return Set.of("string");
        return null;
    }

    private Node reference(JsonNode schema, String path) {
        siblingsMustBeAnnotations(schema, "$ref", path);
        String ref = schema.get("$ref").asText("");
        if (!ref.startsWith("#")) throw new ConstraintException("$ref", path, "only local references (#/...) are supported, got " + ref);
        if (refsInProgress.contains(ref)) throw new ConstraintException("$ref", path, "recursive reference " + ref + " is not supported");
        JsonNode target;
        try {
            target = root.at(JsonPointer.compile(ref.substring(1)));
        } catch (IllegalArgumentException e) {
            throw new ConstraintException("$ref", path, "malformed reference " + ref);
        }
        if (target.isMissingNode()) throw new ConstraintException("$ref", path, "reference " + ref + " points nowhere");
        refsInProgress.push(ref);
        try {
            return compile(target, ref.substring(1));
        } finally {
            refsInProgress.pop();
        }
    }

    private Node anyOf(JsonNode schema, String path) {
        siblingsMustBeAnnotations(schema, "anyOf", path);
        JsonNode branches = schema.get("anyOf");
        if (!branches.isArray() || branches.isEmpty()) throw new ConstraintException("anyOf", path, "anyOf must be a non-empty array");
        List<Node> alternatives = new ArrayList<>();
        for (int i = 0; i < branches.size(); i++) alternatives.add(compile(branches.get(i), path + "/anyOf/" + i));
        return union(alternatives, "anyOf", path);
    }

    private static void siblingsMustBeAnnotations(JsonNode schema, String keyword, String path) {
        for (var names = schema.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals(keyword) && ASSERTIONS.contains(name)) {
                throw new ConstraintException(name, path, "'" + name + "' next to '" + keyword + "' is not supported");
            }
        }
    }

    private Node object(JsonNode schema, String path) {
        JsonNode properties = schema.path("properties");
        if (!properties.isMissingNode() && !properties.isObject()) {
            throw new ConstraintException("properties", path, "properties must be an object");
        }
        Set<String> required = new LinkedHashSet<>();
        JsonNode requiredList = schema.path("required");
        if (!requiredList.isMissingNode()) {
            if (!requiredList.isArray()) throw new ConstraintException("required", path, "required must be an array of strings");
            for (JsonNode name : requiredList) {
                if (!name.isTextual()) throw new ConstraintException("required", path, "required must be an array of strings");
                required.add(name.asText());
            }
        }
        JsonNode additional = schema.get("additionalProperties");
        if (additional != null && !additional.isBoolean() && !additional.isObject()) {
            throw new ConstraintException("additionalProperties", path, "additionalProperties must be a boolean or a schema");
        }
        boolean closed = additional != null && additional.isBoolean() && !additional.booleanValue();
        if (properties.isObject() || !required.isEmpty()) {
            // Only the listed properties are written, whatever additionalProperties says: a subset always validates.
            List<ObjectShape.Property> list = new ArrayList<>();
            for (var fields = properties.fields(); fields.hasNext(); ) {
                var field = fields.next();
                String name = field.getKey();
                list.add(new ObjectShape.Property(bytes(TextNode.valueOf(name)),
                        compile(field.getValue(), path + "/properties/" + escape(name)), required.contains(name)));
            }
            for (String name : required) {
                if (properties.has(name)) continue;
                if (closed) {
                    throw new ConstraintException("required", path,
                            "required property '" + name + "' is not in properties and additionalProperties is false");
                }
                Node value = additional != null && additional.isObject()
                        ? compile(additional, path + "/additionalProperties") : any(limits.maxDepth() - 1);
                list.add(new ObjectShape.Property(bytes(TextNode.valueOf(name)), value, true));
            }
            return new ObjectShape(list);
        }
        if (closed) return new MapShape(keys, any(0), 0);
        Node value = additional != null && additional.isObject()
                ? compile(additional, path + "/additionalProperties") : any(limits.maxDepth() - 1);
        return new MapShape(keys, value, limits.maxObjectMembers());
    }

    private Node array(JsonNode schema, String path) {
        JsonNode items = schema.get("items");
        if (items != null && items.isArray()) {
            throw new ConstraintException("items", path, "items as a list (tuple validation) is not supported");
        }
        Node item = items == null ? any(limits.maxDepth() - 1) : compile(items, path + "/items");
        int min = count(schema, "minItems", 0, path);
        int max = count(schema, "maxItems", Integer.MAX_VALUE, path);
        if (max < min) throw new ConstraintException("maxItems", path, "maxItems is below minItems");
        return new ArrayShape(item, min, Math.min(max, Math.max(min, limits.maxArrayItems())));
    }

    private Node string(JsonNode schema, String path) {
        int min = count(schema, "minLength", 0, path);
        int max = count(schema, "maxLength", Integer.MAX_VALUE, path);
        if (max < min) throw new ConstraintException("maxLength", path, "maxLength is below minLength");
        return new StringShape(min, Math.min(max, Math.max(min, limits.maxStringLength())));
    }

    private static int count(JsonNode schema, String keyword, int absent, String path) {
        JsonNode value = schema.get(keyword);
        if (value == null) return absent;
        if (!value.canConvertToExactIntegral() || value.asLong(-1) < 0) {
            throw new ConstraintException(keyword, path, keyword + " must be a non-negative integer");
        }
        return (int) Math.min(Integer.MAX_VALUE, value.asLong());
    }

    /** Enum or const values (those of the allowed types), written compactly. */
    private static Node literals(List<JsonNode> values, Set<String> types, String keyword, String path) {
        List<byte[]> entries = new ArrayList<>();
        for (JsonNode value : values) {
            if (types != null && types.stream().noneMatch(type -> hasType(value, type))) continue;
            byte[] b = bytes(value);
            if (entries.stream().noneMatch(e -> Arrays.equals(e, b))) entries.add(b);
        }
        if (entries.isEmpty()) throw new ConstraintException(keyword, path, keyword + " has no value of type " + types);
        return TrieShape.literals(entries);
    }

    private static boolean hasType(JsonNode value, String type) {
        return switch (type) {
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            case "string" -> value.isTextual();
            case "number" -> value.isNumber();
            case "integer" -> value.isNumber() && value.canConvertToExactIntegral();
            case "boolean" -> value.isBoolean();
            default -> value.isNull();
        };
    }

    /** Any JSON value with containers nested at most {@code depth} deep. */
    private Node any(int depth) {
        if (anyByDepth[depth] != null) return anyByDepth[depth];
        List<Node> alternatives = new ArrayList<>(List.of(
                new StringShape(0, limits.maxStringLength()),
                new NumberShape(false, limits.maxIntegerDigits(), limits.maxFractionDigits()),
                TrieShape.literals(List.of(bytes("true"), bytes("false"), bytes("null")))));
        if (depth > 0) {
            alternatives.add(new MapShape(keys, any(depth - 1), limits.maxObjectMembers()));
            alternatives.add(new ArrayShape(any(depth - 1), 0, limits.maxArrayItems()));
        }
        return anyByDepth[depth] = union(alternatives, "type", "");
    }

    /**
     * One of {@code alternatives}, told apart by the first byte. Literal alternatives merge into one; a
     * byte that could start two other alternatives (two objects, an integer and a number enum) is refused.
     */
    private static Node union(List<Node> alternatives, String keyword, String path) {
        List<Node> merged = new ArrayList<>();
        List<byte[]> literals = new ArrayList<>();
        for (Node node : alternatives) {
            if (node instanceof TrieShape trie && trie.isLiteral()) {
                for (byte[] e : trie.entries) if (literals.stream().noneMatch(l -> Arrays.equals(l, e))) literals.add(e);
            } else {
                merged.add(node);
            }
        }
        if (!literals.isEmpty()) merged.add(TrieShape.literals(literals));
        if (merged.size() == 1) return merged.getFirst();
        Node[] byFirstByte = new Node[Frame.SPECIAL];
        for (int b = 0; b < Frame.SPECIAL; b++) {
            for (Node node : merged) {
                if (node.start().read(State.EMPTY, b) == null) continue;
                if (byFirstByte[b] != null) {
                    throw new ConstraintException(keyword, path, "alternatives that can both start with '" + (char) b
                            + "' are not supported: they must differ in type (at most one object, one array, one string, one number)");
                }
                byFirstByte[b] = node;
            }
        }
        return new UnionShape(byFirstByte);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static byte[] bytes(JsonNode value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON value", e);
        }
    }

    private static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }
}
