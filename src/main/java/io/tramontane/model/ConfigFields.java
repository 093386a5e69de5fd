package io.tramontane.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.tramontane.weights.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strict typed access to one JSON object of a config file. Remembers which keys were read, so keys
 * nobody looked at can be reported; every error names the file and the dotted field path.
 */
final class ConfigFields {
    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Path file;
    private final String prefix;
    private final JsonNode node;
    private final Set<String> read = new HashSet<>();
    private final List<ConfigFields> children = new ArrayList<>();

    private ConfigFields(Path file, String prefix, JsonNode node) {
        this.file = file;
        this.prefix = prefix;
        this.node = node;
    }

    static ConfigFields read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, null, "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot read: " + e);
        }
        if (root == null || !root.isObject()) throw new CheckpointException(file, null, "not a JSON object");
        return new ConfigFields(file, "", root);
    }

    Path file() {
        return file;
    }

    CheckpointException error(String key, String problem) {
        return CheckpointException.field(file, prefix + key, problem);
    }

    /** Present and not JSON null (marks the key read). */
    boolean has(String key) {
        read.add(key);
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    private JsonNode required(String key) {
        if (!has(key)) throw error(key, "missing");
        return node.get(key);
    }

    int requireInt(String key) {
        return toInt(key, required(key));
    }

    int intOr(String key, int fallback) {
        return has(key) ? toInt(key, node.get(key)) : fallback;
    }

    private int toInt(String key, JsonNode v) {
        double d = v.isNumber() ? v.doubleValue() : Double.NaN;
        if (d != Math.rint(d) || d < Integer.MIN_VALUE || d > Integer.MAX_VALUE) {
            throw error(key, "expected an integer, found " + v);
        }
        return (int) d;
    }

    double requireDouble(String key) {
        return toDouble(key, required(key));
    }

    double doubleOr(String key, double fallback) {
        return has(key) ? toDouble(key, node.get(key)) : fallback;
    }

    private double toDouble(String key, JsonNode v) {
        if (!v.isNumber() || !Double.isFinite(v.doubleValue())) throw error(key, "expected a number, found " + v);
        return v.doubleValue();
    }

    boolean boolOr(String key, boolean fallback) {
        if (!has(key)) return fallback;
        JsonNode v = node.get(key);
        if (!v.isBoolean()) throw error(key, "expected true or false, found " + v);
        return v.booleanValue();
    }

    String textOr(String key, String fallback) {
        if (!has(key)) return fallback;
        JsonNode v = node.get(key);
        if (!v.isTextual()) throw error(key, "expected a string, found " + v);
        return v.textValue();
    }

    /** The raw value (marks it read), or null when absent. */
    JsonNode raw(String key) {
        has(key);
        return node.get(key);
    }

    /** A nested object, or null when absent or JSON null. */
    ConfigFields object(String key) {
        if (!has(key)) return null;
        JsonNode v = node.get(key);
        if (!v.isObject()) throw error(key, "expected an object, found " + v);
        ConfigFields child = new ConfigFields(file, prefix + key + ".", v);
        children.add(child);
        return child;
    }

    /** Marks keys that do not change the math (token ids, training knobs, bookkeeping) as read. */
    void ignore(String... keys) {
        read.addAll(List.of(keys));
    }

    /** Fails on the first key of this object that was not read: for blocks where every key is math. */
    void rejectUnread() {
        List<String> unread = unread();
        if (!unread.isEmpty()) throw CheckpointException.field(file, unread.getFirst(), "not supported");
    }

    /** Dotted paths of keys not read, in this object and its nested objects. */
    List<String> unread() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!read.contains(field.getKey())) out.add(prefix + field.getKey());
        }
        for (ConfigFields child : children) out.addAll(child.unread());
        return out;
    }
}
