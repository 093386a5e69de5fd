package io.tramontane.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.tokenizer.TekkenFile;
import io.tramontane.tokenizer.TokenizerVersion;
import io.tramontane.weights.DType;
import io.tramontane.weights.Floats;
import io.tramontane.weights.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The embedded default model: a small Mistral-architecture checkpoint with deterministic RANDOM
 * weights (it talks nonsense) and a Tekken v13 tokenizer trained here on text shipped in the jar.
 * It is written once, in the Mistral-native layout, into a cache directory and then loaded like any
 * user checkpoint, so the demo exercises the real loading path.
 */
public final class DemoModel {
    /** Bump when anything below changes, so stale caches are not reused. */
    static final String VERSION = "demo-v2";
    static final int DIM = 256, LAYERS = 4, HEADS = 8, KV_HEADS = 2, HEAD_DIM = 32, HIDDEN = 768;
    static final int SPECIAL_TOKENS = 64, MERGES = 1792;  // few special ids: a random head rarely samples them; merges stop early when pairs run out
    static final long SEED = 0x7A3B_0F1E_55AAL;

    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private DemoModel() {}

    /** The demo checkpoint directory, generated on first use under {@code cacheRoot}. */
    public static Path ensure(Path cacheRoot) {
        Path dir = cacheRoot.resolve(VERSION);
        if (Files.isRegularFile(dir.resolve("consolidated.safetensors"))) return dir;
        try {
            Files.createDirectories(cacheRoot);
            Path staging = Files.createTempDirectory(cacheRoot, VERSION + ".tmp");
            write(staging);
            try {
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException | java.nio.file.FileAlreadyExistsException e) {
                if (!Files.isDirectory(dir)) throw e;  // another process won the race: use its copy
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo model under " + cacheRoot, e);
        }
    }

    /** System property {@code tramontane.cache}, else {@code $TRAMONTANE_CACHE}, else {@code ~/.cache/tramontane}. */
    public static Path defaultCacheRoot() {
        String configured = System.getProperty("tramontane.cache", System.getenv("TRAMONTANE_CACHE"));
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".cache", "tramontane");
    }

    static void write(Path dir) throws IOException {
        List<byte[]> vocab = BpeTrainer.train(corpus(), TekkenFile.DEFAULT_PATTERN, MERGES);
        TekkenFile.of(TokenizerVersion.V13, vocab, SPECIAL_TOKENS).write(dir.resolve("tekken.json"));
        int vocabSize = SPECIAL_TOKENS + vocab.size();

        ObjectNode params = new ObjectMapper().createObjectNode();
        params.put("dim", DIM).put("n_layers", LAYERS).put("head_dim", HEAD_DIM).put("hidden_dim", HIDDEN)
                .put("n_heads", HEADS).put("n_kv_heads", KV_HEADS).put("norm_eps", 1e-5).put("vocab_size", vocabSize)
                .put("rope_theta", 1_000_000.0).put("max_position_embeddings", 4096)
                .put("_comment", "Tramontane demo model: random weights, not a trained model");
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("params.json").toFile(), params);

        SplittableRandom random = new SplittableRandom(SEED);
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt").metadata("tramontane", VERSION);
        out.add("tok_embeddings.weight", DType.BF16, new long[] {vocabSize, DIM}, gaussian(vocabSize * DIM, 1.0, random));
        for (int l = 0; l < LAYERS; l++) {
            String p = "layers." + l + ".";
            out.add(p + "attention_norm.weight", DType.BF16, new long[] {DIM}, ones(DIM));
            linear(out, p + "attention.wq.weight", HEADS * HEAD_DIM, DIM, random);
            linear(out, p + "attention.wk.weight", KV_HEADS * HEAD_DIM, DIM, random);
            linear(out, p + "attention.wv.weight", KV_HEADS * HEAD_DIM, DIM, random);
            linear(out, p + "attention.wo.weight", DIM, HEADS * HEAD_DIM, random);
            out.add(p + "ffn_norm.weight", DType.BF16, new long[] {DIM}, ones(DIM));
            linear(out, p + "feed_forward.w1.weight", HIDDEN, DIM, random);
            linear(out, p + "feed_forward.w2.weight", DIM, HIDDEN, random);
            linear(out, p + "feed_forward.w3.weight", HIDDEN, DIM, random);
        }
        out.add("norm.weight", DType.BF16, new long[] {DIM}, ones(DIM));
        linear(out, "output.weight", vocabSize, DIM, random);
        out.write(dir.resolve("consolidated.safetensors"));
    }

    private static void linear(SafetensorsWriter out, String name, int rows, int cols, SplittableRandom random) {
        out.add(name, DType.BF16, new long[] {rows, cols}, gaussian(rows * cols, 1 / Math.sqrt(cols), random));
    }

    private static MemorySegment gaussian(int n, double std, SplittableRandom random) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[n * 2]);
        for (int i = 0; i < n; i++) {
            double g = Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
            bytes.setAtIndex(LE_SHORT, i, Floats.floatToBf16((float) (g * std)));
        }
        return bytes;
    }

    private static MemorySegment ones(int n) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[n * 2]);
        for (int i = 0; i < n; i++) bytes.setAtIndex(LE_SHORT, i, Floats.floatToBf16(1f));
        return bytes;
    }

    private static String corpus() throws IOException {
        try (InputStream in = DemoModel.class.getResourceAsStream("corpus.txt")) {
            if (in == null) throw new IOException("demo corpus missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
