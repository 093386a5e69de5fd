package io.tramontane.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.testing.SharedFixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The shared tekken files (loaded once per JVM) and conformance cases. */
public final class SharedTekken {
    private static final Map<String, Tekken> LOADED = new ConcurrentHashMap<>();
    private static final ObjectMapper JSON = new ObjectMapper();

    private SharedTekken() {}

    public static Tekken tokenizer(String fileName) {
        return LOADED.computeIfAbsent(fileName, name -> {
            try {
                return Tekken.load(SharedFixtures.resolve("tekken/" + name));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    public static JsonNode caseFile(String fileName) {
        try {
            return JSON.readTree(SharedFixtures.resolve("tekken/cases/" + fileName).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<JsonNode> cases(String fileName) {
        List<JsonNode> cases = new ArrayList<>();
        caseFile(fileName).get("cases").forEach(cases::add);
        return cases;
    }

    public static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) values[i] = array.get(i).asInt();
        return values;
    }

    public static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }
}
