package io.tramontane.weights;

import io.tramontane.model.ConfigFile;
import io.tramontane.model.ModelConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A checkpoint directory opened for inference, in either layout: the model description, the canonical
 * weights as zero-copy views of the mapped safetensors files, and the tokenizer file. Opening reads
 * configs, index and headers only; tensor bytes are paged in by the OS when first used, or up front
 * by {@link #load}. Closing unmaps every file: views of the weights must not be used afterwards.
 */
public final class Checkpoint implements AutoCloseable {

    public enum Layout { NATIVE, HF }

    private static final long LOAD_CHUNK = 64L << 20;

    private final Path directory;
    private final Layout layout;
    private final Arena arena;
    private final ConfigFile config;
    private final TensorStore store;
    private final CanonicalWeights.Result weights;
    private final Path tokenizer;
    private final List<String> warnings;

    private Checkpoint(Path directory, Layout layout, Arena arena, ConfigFile config, TensorStore store,
                       CanonicalWeights.Result weights, Path tokenizer, List<String> warnings) {
        this.directory = directory;
        this.layout = layout;
        this.arena = arena;
        this.config = config;
        this.store = store;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.warnings = List.copyOf(warnings);
    }

    /** Opens {@code dir}, native layout first when it holds both. */
    public static Checkpoint open(Path dir) {
        return open(dir, null);
    }

    /** Opens {@code dir} in {@code layout} (null: whichever it holds, native first). */
    public static Checkpoint open(Path dir, Layout layout) {
        CheckpointFiles files = CheckpointFiles.find(dir, layout);
        ConfigFile config = ConfigFile.read(files.config());
        Arena arena = Arena.ofShared();
        try {
            TensorStore store = TensorStore.open(dir, files.shards(), files.index(), arena);
            CanonicalWeights.Result weights = CanonicalWeights.build(config.config(), store, files.layout());
            List<String> warnings = new ArrayList<>(files.warnings());
            warnings.addAll(config.warnings());
            warnings.addAll(store.warnings());
            warnings.addAll(weights.warnings());
            return new Checkpoint(dir, files.layout(), arena, config, store, weights, files.tokenizer(), warnings);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path directory() {
        return directory;
    }

    public Layout layout() {
        return layout;
    }

    public ModelConfig config() {
        return config.config();
    }

    /** {@code params.json} or {@code config.json}. */
    public Path configFile() {
        return config.file();
    }

    public ModelWeights weights() {
        return weights.weights();
    }

    /** {@code tekken.json}, else {@code tokenizer.json} (an HF conversion; see {@link #warnings}). */
    public Optional<Path> tokenizerFile() {
        return Optional.ofNullable(tokenizer);
    }

    public List<Path> weightFiles() {
        return store.files().stream().map(SafetensorsFile::path).toList();
    }

    /** Elements of the tensors the model uses, FP8 scales excluded; tied embeddings count once. */
    public long parameterCount() {
        return weights.parameters();
    }

    /** Bytes of the tensors the model uses (scales included), by dtype. */
    public Map<DType, Long> bytesByDType() {
        return weights.bytesByDType();
    }

    /** Things a user should know that did not stop loading (ignored fields, skipped tensors, defaults). */
    public List<String> warnings() {
        return warnings;
    }

    /** Pages every weight file into memory, reporting bytes to {@code progress}: the part of loading that touches data. */
    public void load(Progress progress) {
        for (SafetensorsFile file : store.files()) {
            MemorySegment content = file.content();
            for (long at = 0; at < content.byteSize(); at += LOAD_CHUNK) {
                long size = Math.min(LOAD_CHUNK, content.byteSize() - at);
                content.asSlice(at, size).load();
                progress.advance(size);
            }
        }
    }

    /** Total bytes of the weight files (what {@link #load} pages in). */
    public long fileBytes() {
        return store.files().stream().mapToLong(f -> f.content().byteSize()).sum();
    }

    /** Unmaps every file. */
    @Override
    public void close() {
        arena.close();
    }
}
