package io.tramontane.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The files of a checkpoint directory in one layout (MODELS.md 2.1): the config, the safetensors files,
 * the optional shard index and the tokenizer.
 *
 * @param index     {@code consolidated.safetensors.index.json} / {@code model.safetensors.index.json}, or null
 * @param tokenizer {@code tekken.json}, else {@code tokenizer.json}, else null
 */
record CheckpointFiles(Checkpoint.Layout layout, Path config, List<Path> shards, Path index, Path tokenizer,
                       List<String> warnings) {

    private static final Pattern SHARD = Pattern.compile("(consolidated|model)-(\\d+)-of-(\\d+)\\.safetensors");

    /** {@code preferred}: the layout to use when the directory holds both, or null for native first. */
    static CheckpointFiles find(Path dir, Checkpoint.Layout preferred) {
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir, null, "not a directory");
        List<String> warnings = new ArrayList<>();
        boolean nativeLayout = Files.isRegularFile(dir.resolve("params.json")) && hasWeights(dir, "consolidated");
        boolean hf = Files.isRegularFile(dir.resolve("config.json")) && hasWeights(dir, "model");
        Checkpoint.Layout layout;
        if (nativeLayout && hf) {
            layout = preferred != null ? preferred : Checkpoint.Layout.NATIVE;
            warnings.add("directory holds both layouts; using " + layout);
        } else if (nativeLayout || hf) {
            layout = nativeLayout ? Checkpoint.Layout.NATIVE : Checkpoint.Layout.HF;
            if (preferred != null && preferred != layout) {
                throw new CheckpointException(dir, null, "no " + preferred + " checkpoint here (found " + layout + ")");
            }
        } else {
            throw new CheckpointException(dir, null, "no checkpoint: expected params.json + consolidated*.safetensors "
                    + "(Mistral-native) or config.json + model*.safetensors (HF)");
        }
        String stem = layout == Checkpoint.Layout.NATIVE ? "consolidated" : "model";
        Path config = dir.resolve(layout == Checkpoint.Layout.NATIVE ? "params.json" : "config.json");
        Path index = dir.resolve(stem + ".safetensors.index.json");
        if (!Files.isRegularFile(index)) index = null;

        Path tokenizer = null;
        if (Files.isRegularFile(dir.resolve("tekken.json"))) {
            tokenizer = dir.resolve("tekken.json");
        } else if (Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            tokenizer = dir.resolve("tokenizer.json");
            warnings.add("only tokenizer.json (an HF conversion) found; the Tekken tokenizer reads tekken.json");
        } else {
            warnings.add("no tokenizer file (tekken.json or tokenizer.json)");
        }
        List<Path> shards = index != null ? List.of() : shards(dir, stem);
        return new CheckpointFiles(layout, config, shards, index, tokenizer, List.copyOf(warnings));
    }

    private static boolean hasWeights(Path dir, String stem) {
        if (Files.isRegularFile(dir.resolve(stem + ".safetensors"))
                || Files.isRegularFile(dir.resolve(stem + ".safetensors.index.json"))) return true;
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(p -> matches(p, stem) != null);
        } catch (IOException e) {
            throw new CheckpointException(dir, null, "cannot list: " + e);
        }
    }

    private static Matcher matches(Path file, String stem) {
        Matcher m = SHARD.matcher(file.getFileName().toString());
        return m.matches() && m.group(1).equals(stem) ? m : null;
    }

    /** Without an index: the single file, or every numbered shard 1..M of the same M. */
    private static List<Path> shards(Path dir, String stem) {
        Path single = dir.resolve(stem + ".safetensors");
        if (Files.isRegularFile(single)) return List.of(single);
        TreeMap<Integer, Path> numbered = new TreeMap<>();
        int of = -1;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.sorted().toList()) {
                Matcher m = matches(p, stem);
                if (m == null) continue;
                int i = Integer.parseInt(m.group(2)), n = Integer.parseInt(m.group(3));
                if (of != -1 && n != of) throw new CheckpointException(p, null, "shard count " + n + " disagrees with " + of);
                of = n;
                numbered.put(i, p);
            }
        } catch (IOException | NumberFormatException e) {
            throw new CheckpointException(dir, null, "cannot list shards: " + e);
        }
        for (int i = 1; i <= of; i++) {
            if (!numbered.containsKey(i)) {
                throw new CheckpointException(dir, null, String.format("missing shard %s-%05d-of-%05d.safetensors", stem, i, of));
            }
        }
        if (numbered.size() != of) throw new CheckpointException(dir, null, "shard numbers outside 1.." + of);
        return List.copyOf(numbered.values());
    }
}
