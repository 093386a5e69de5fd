package io.tramontane.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every tensor of a checkpoint across its shards, by name. Each name appears exactly once across the
 * shards; with an index, the index and the shards must agree name for name.
 */
final class TensorStore {
    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Path source;  // named in "missing tensor" errors: the index, the single file or the directory
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;
    private final List<String> warnings;

    private TensorStore(Path source, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName, List<String> warnings) {
        this.source = source;
        this.files = List.copyOf(files);
        this.byName = byName;
        this.warnings = List.copyOf(warnings);
    }

    static TensorStore open(Path dir, List<Path> shards, Path index, Arena arena) {
        List<String> warnings = new ArrayList<>();
        JsonNode indexJson = index == null ? null : parse(index);
        Map<String, String> weightMap = index == null ? null : weightMap(index, indexJson);
        if (weightMap != null) {
            Set<Path> named = new LinkedHashSet<>();
            for (String file : weightMap.values()) named.add(dir.resolve(file));
            shards = List.copyOf(named);
        }
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> byName = new HashMap<>();
        long totalBytes = 0;
        for (Path shard : shards) {
            if (!Files.isRegularFile(shard)) throw new CheckpointException(index, null, "names shard " + shard.getFileName() + ", which does not exist");
            SafetensorsFile file = SafetensorsFile.open(shard, arena);
            files.add(file);
            for (SafetensorsHeader.Entry e : file.entries()) {
                SafetensorsFile previous = byName.putIfAbsent(e.name(), file);
                if (previous != null) {
                    throw CheckpointException.tensor(shard, e.name(), "also in " + previous.path().getFileName());
                }
                if (weightMap != null && !shard.getFileName().toString().equals(weightMap.get(e.name()))) {
                    throw CheckpointException.tensor(shard, e.name(), weightMap.containsKey(e.name())
                            ? "the index places it in " + weightMap.get(e.name()) : "not listed in the index");
                }
                totalBytes += e.byteSize();
            }
        }
        if (weightMap != null) {
            for (Map.Entry<String, String> w : weightMap.entrySet()) {
                if (!byName.containsKey(w.getKey())) {
                    throw CheckpointException.tensor(dir.resolve(w.getValue()), w.getKey(), "listed in the index but not in this shard");
                }
            }
            JsonNode declared = indexJson.path("metadata").path("total_size");
            if (declared.isIntegralNumber() && declared.longValue() != totalBytes) {
                warnings.add(index.getFileName() + " metadata.total_size " + declared + " differs from the tensors' " + totalBytes + " bytes");
            }
        }
        Path source = index != null ? index : shards.size() == 1 ? shards.getFirst() : dir;
        return new TensorStore(source, files, byName, warnings);
    }

    private static JsonNode parse(Path index) {
        try {
            return JSON.readTree(Files.readAllBytes(index));
        } catch (JsonProcessingException e) {
            throw new CheckpointException(index, null, "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new CheckpointException(index, null, "cannot read: " + e);
        }
    }

    /** {@code weight_map}: tensor name to shard file name (a plain file name in the same directory). */
    private static Map<String, String> weightMap(Path index, JsonNode json) {
        JsonNode map = json.path("weight_map");
        if (!map.isObject() || map.isEmpty()) throw CheckpointException.field(index, "weight_map", "missing or empty");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String file = e.getValue().asText("");
            if (!e.getValue().isTextual() || !file.endsWith(".safetensors") || file.contains("/") || file.contains("\\")) {
                throw CheckpointException.tensor(index, e.getKey(), "weight_map value " + e.getValue() + " is not a shard file name");
            }
            weightMap.put(e.getKey(), file);
        }
        return weightMap;
    }

    List<SafetensorsFile> files() {
        return files;
    }

    List<String> warnings() {
        return warnings;
    }

    Set<String> names() {
        return byName.keySet();
    }

    boolean contains(String name) {
        return byName.containsKey(name);
    }

    SafetensorsHeader.Entry entry(String name) {
        SafetensorsFile file = byName.get(name);
        if (file == null) throw CheckpointException.tensor(source, name, "missing");
        return file.entry(name);
    }

    /** The file holding {@code name} (for errors about it). */
    Path fileOf(String name) {
        SafetensorsFile file = byName.get(name);
        return file == null ? source : file.path();
    }

    Tensor tensor(String name) {
        SafetensorsFile file = byName.get(name);
        if (file == null) throw CheckpointException.tensor(source, name, "missing");
        return file.tensor(name);
    }
}
