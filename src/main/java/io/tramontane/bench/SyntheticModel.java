package io.tramontane.bench;

import io.tramontane.model.ModelConfig;
import io.tramontane.weights.DType;
import io.tramontane.weights.FeedForward;
import io.tramontane.weights.LayerWeights;
import io.tramontane.weights.Linear;
import io.tramontane.weights.ModelWeights;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A dense model of any shape with random weights in off-heap memory, for benchmarks that need the
 * bytes and shapes of a real model but no file: linears in the chosen dtype with the magnitude of a
 * trained model (rms about {@code 1/sqrt(in)}), F32 norm gains of one. FP8 models store e4m3 values
 * near one with a per-tensor weight scale and keep embeddings and output head in BF16, as Mistral's
 * FP8 checkpoints do. A 0.86B-parameter BF16 model (1.7 GB) is generated in about a second per core.
 */
public final class SyntheticModel implements AutoCloseable {
    /** Fill work is split into slices this large so every core stays busy to the end. */
    private static final long SLICE_BYTES = 16L << 20;

    private record Fill(MemorySegment data, DType dtype, int exponent, long seed) {}

    private final Arena arena;
    private final ModelWeights weights;
    private final DType dtype;

    private SyntheticModel(Arena arena, ModelWeights weights, DType dtype) {
        this.arena = arena;
        this.weights = weights;
        this.dtype = dtype;
    }

    /** {@code f32}, {@code bf16} or {@code fp8} (e4m3 with per-tensor scales). */
    public static DType dtype(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "fp8", "f8_e4m3" -> DType.F8_E4M3;
            default -> throw new IllegalArgumentException("dtype must be f32, bf16 or fp8, got '" + name + "'");
        };
    }

    public static SyntheticModel generate(ModelConfig shape, DType dtype, long seed) {
        if (shape.moe() != null) throw new IllegalArgumentException("synthetic models are dense");
        ModelConfig config = dtype == DType.F8_E4M3 ? withFp8(shape) : shape;
        Arena arena = Arena.ofShared();
        try {
            Builder builder = new Builder(arena, dtype, seed);
            ModelWeights weights = builder.build(config);
            builder.fillAll();
            return new SyntheticModel(arena, weights, dtype);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * One random linear {@code [out, in]} in {@code arena}, as the layers of a synthetic model have them
     * (kernel benchmarks).
     */
    public static Linear linear(Arena arena, String name, DType dtype, int out, int in, long seed) {
        Builder builder = new Builder(arena, dtype, seed);
        Linear linear = builder.linear(name, out, in);
        builder.fillAll();
        return linear;
    }

    public ModelWeights weights() {
        return weights;
    }

    public ModelConfig config() {
        return weights.config();
    }

    /** The dtype of the linears. */
    public DType dtype() {
        return dtype;
    }

    @Override
    public void close() {
        arena.close();
    }

    private static ModelConfig withFp8(ModelConfig c) {
        return new ModelConfig(c.architecture(), c.dim(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.headDim(),
                c.hiddenDim(), c.vocabSize(), c.normEps(), c.ropeTheta(), c.yarn(), c.temperature(), c.moe(),
                c.tiedEmbeddings(), new ModelConfig.Quantization(false, null), c.maxPositions());
    }

    /** Lays out the tensors first and fills them afterwards, all at once, in parallel. */
    private static final class Builder {
        private final Arena arena;
        private final DType linearType, tableType;
        private final long seed;
        private final List<Fill> fills = new ArrayList<>();

        Builder(Arena arena, DType dtype, long seed) {
            this.arena = arena;
            this.linearType = dtype;
            this.tableType = dtype == DType.F8_E4M3 ? DType.BF16 : dtype;
            this.seed = seed;
        }

        ModelWeights build(ModelConfig c) {
            List<LayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < c.nLayers(); l++) {
                String p = "layers." + l + ".";
                var mlp = new FeedForward.Dense(linear(p + "feed_forward.w1", c.hiddenDim(), c.dim()),
                        linear(p + "feed_forward.w2", c.dim(), c.hiddenDim()),
                        linear(p + "feed_forward.w3", c.hiddenDim(), c.dim()));
                layers.add(new LayerWeights(ones(p + "attention_norm", c.dim()),
                        linear(p + "attention.wq", c.queryWidth(), c.dim()), linear(p + "attention.wk", c.kvWidth(), c.dim()),
                        linear(p + "attention.wv", c.kvWidth(), c.dim()), linear(p + "attention.wo", c.dim(), c.queryWidth()),
                        ones(p + "ffn_norm", c.dim()), mlp));
            }
            Tensor embeddings = matrix("tok_embeddings", tableType, c.vocabSize(), c.dim(), RandomWeights.exponentFor(1.0));
            Tensor output = matrix("output", tableType, c.vocabSize(), c.dim(), RandomWeights.exponentFor(1 / Math.sqrt(c.dim())));
            return new ModelWeights(c, embeddings, layers, ones("norm", c.dim()), output);
        }

        private Linear linear(String name, int out, int in) {
            double rms = 1 / Math.sqrt(in);
            if (linearType != DType.F8_E4M3) return Linear.of(matrix(name, linearType, out, in, RandomWeights.exponentFor(rms)));
            int exponent = RandomWeights.exponentFor(1.0);
            float scale = (float) (rms / RandomWeights.rmsOf(exponent));
            return new Linear(matrix(name, linearType, out, in, exponent), scale, Float.NaN);
        }

        private Tensor matrix(String name, DType type, int rows, int cols, int exponent) {
            long bytes = (long) rows * cols * type.bytes();
            // whole 8-byte words for the filler; the tensor views exactly its own bytes
            MemorySegment data = arena.allocate((bytes + 7) / 8 * 8, 64);
            fills.add(new Fill(data, type, exponent, seed * 1_000_003L + fills.size()));
            return Tensor.of(name, type, new long[] {rows, cols}, data.asSlice(0, bytes));
        }

        private static Tensor ones(String name, int n) {
            float[] gain = new float[n];
            Arrays.fill(gain, 1f);
            return Tensor.ofFloats(name, new long[] {n}, gain);
        }

        void fillAll() {
            List<Fill> slices = new ArrayList<>();
            for (Fill f : fills) {
                for (long from = 0, size = f.data().byteSize(); from < size; from += SLICE_BYTES) {
                    long length = Math.min(SLICE_BYTES, size - from);
                    slices.add(new Fill(f.data().asSlice(from, length), f.dtype(), f.exponent(), f.seed() * 31 + from));
                }
            }
            slices.parallelStream().forEach(s -> RandomWeights.fill(s.data(), s.dtype(), s.exponent(), s.seed()));
        }
    }
}
