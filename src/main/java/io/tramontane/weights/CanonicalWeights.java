package io.tramontane.weights;

import io.tramontane.model.ModelConfig;
import io.tramontane.weights.TensorNames.Part;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the canonical {@link ModelWeights} from a checkpoint's tensors: finds each tensor under the
 * layout's name, checks its shape and dtype against the config, reads the FP8 scales, and presents
 * native q/k rows in rotate-half order. Every tensor of the files must be used or deliberately skipped.
 * Reads no data except the scalar FP8 scales.
 */
final class CanonicalWeights {
    private static final Set<DType> WEIGHT_TYPES = Set.of(DType.F32, DType.BF16, DType.F16, DType.F8_E4M3);
    private static final Set<DType> SCALE_TYPES = Set.of(DType.F32, DType.BF16, DType.F16);

    /** The weights and what they cost: parameters (scales excluded) and bytes by dtype (scales included). */
    record Result(ModelWeights weights, long parameters, Map<DType, Long> bytesByDType, List<String> warnings) {}

    private final ModelConfig config;
    private final TensorStore store;
    private final TensorNames names;
    private final int[] qOrder, kOrder;  // native q/k rows in rotate-half order, null for HF
    private final Set<String> used = new HashSet<>();
    private final Map<DType, Long> bytes = new EnumMap<>(DType.class);
    private final List<String> warnings = new ArrayList<>();
    private long parameters;

    private CanonicalWeights(ModelConfig config, TensorStore store, TensorNames names, boolean permuteQk) {
        this.config = config;
        this.store = store;
        this.names = names;
        this.qOrder = permuteQk ? RopePermutation.nativeToRotateHalf(config.nHeads(), config.headDim()) : null;
        this.kOrder = permuteQk ? RopePermutation.nativeToRotateHalf(config.nKvHeads(), config.headDim()) : null;
    }

    static Result build(ModelConfig config, TensorStore store, Checkpoint.Layout layout) {
        TensorNames names = layout == Checkpoint.Layout.NATIVE ? new TensorNames.Native() : TensorNames.Hf.detect(store.names());
        return new CanonicalWeights(config, store, names, layout == Checkpoint.Layout.NATIVE).build();
    }

    private Result build() {
        long dim = config.dim(), vocab = config.vocabSize();
        Tensor embeddings = plain(names.embeddings(), vocab, dim);
        List<LayerWeights> layers = new ArrayList<>(config.nLayers());
        for (int i = 0; i < config.nLayers(); i++) layers.add(layer(i));
        Tensor finalNorm = plain(names.finalNorm(), dim);
        Tensor output;
        if (config.tiedEmbeddings()) {
            output = embeddings;
            if (store.contains(names.output() + ".weight")) {
                used.add(names.output() + ".weight");
                warnings.add("embeddings are tied; ignoring " + names.output() + ".weight");
            }
        } else {
            output = plain(names.output(), vocab, dim);
        }
        KvCacheScales kvCacheScales = kvCacheScales();
        checkEverythingUsed();
        return new Result(new ModelWeights(config, embeddings, layers, finalNorm, output, kvCacheScales), parameters,
                Map.copyOf(bytes), List.copyOf(warnings));
    }

    private LayerWeights layer(int i) {
        long dim = config.dim(), q = config.queryWidth(), kv = config.kvWidth(), hidden = config.hiddenDim();
        Linear wq = linear(names.layer(i, Part.WQ), q, dim);
        Linear wk = linear(names.layer(i, Part.WK), kv, dim);
        if (qOrder != null) {
            wq = permuted(wq, qOrder);
            wk = permuted(wk, kOrder);
        }
        FeedForward ffn;
        if (config.moe() == null) {
            ffn = new FeedForward.Dense(linear(names.layer(i, Part.W1), hidden, dim),
                    linear(names.layer(i, Part.W2), dim, hidden), linear(names.layer(i, Part.W3), hidden, dim));
        } else {
            Tensor router = plain(names.layer(i, Part.ROUTER), config.moe().numExperts(), dim);
            List<FeedForward.Dense> experts = new ArrayList<>();
            for (int e = 0; e < config.moe().numExperts(); e++) {
                experts.add(new FeedForward.Dense(linear(names.expert(i, e, Part.W1), hidden, dim),
                        linear(names.expert(i, e, Part.W2), dim, hidden), linear(names.expert(i, e, Part.W3), hidden, dim)));
            }
            ffn = new FeedForward.Moe(router, experts);
        }
        return new LayerWeights(plain(names.layer(i, Part.ATTENTION_NORM), dim), wq, wk,
                linear(names.layer(i, Part.WV), kv, dim), linear(names.layer(i, Part.WO), dim, q),
                plain(names.layer(i, Part.FFN_NORM), dim), ffn);
    }

    private static Linear permuted(Linear linear, int[] order) {
        Tensor rows = linear.weight().permuteRows(order);
        return new Linear(rows, linear.weightScale(), linear.activationScale());
    }

    /** An unquantized tensor (embeddings, norms, router, head) of exactly {@code shape}. */
    private Tensor plain(String prefix, long... shape) {
        Tensor t = use(prefix + ".weight", shape);
        if (t.dtype() == DType.F8_E4M3) throw error(t.name(), "must not be FP8 (only attention and FFN linears are)");
        return t;
    }

    /** A linear {@code [out, in]}, FP8 with its scales or unquantized. */
    private Linear linear(String prefix, long out, long in) {
        Tensor weight = use(prefix + ".weight", out, in);
        String weightScale = names.weightScale(prefix), activationScale = names.activationScale(prefix);
        boolean fp8 = weight.dtype() == DType.F8_E4M3;
        if (fp8 && config.quantization() == null) {
            throw error(weight.name(), "is FP8 but the config declares no quantization");
        }
        if (fp8 && !store.contains(weightScale)) throw error(weightScale, "missing (scale of FP8 " + weight.name() + ")");
        if (fp8 && config.quantization().staticActivationScales() && !store.contains(activationScale)) {
            throw error(activationScale, "missing (static activation scale of FP8 " + weight.name() + ")");
        }
        float ws = store.contains(weightScale) ? scale(weightScale) : 1f;
        float as = store.contains(activationScale) ? scale(activationScale) : Float.NaN;
        return new Linear(weight, ws, as);
    }

    /**
     * The FP8 KV-cache scales the checkpoint ships: per layer a K and a V scale, or one for both (vLLM reads the same
     * names); 1 for a layer without any (as vLLM), with a warning when only some layers have them.
     */
    private KvCacheScales kvCacheScales() {
        int layers = config.nLayers(), calibrated = 0;
        float[] keys = new float[layers], values = new float[layers];
        for (int i = 0; i < layers; i++) {
            String both = names.kvScale(i), key = names.keyScale(i), value = names.valueScale(i);
            float shared = store.contains(both) ? scale(both) : Float.NaN;
            boolean hasKey = store.contains(key), hasValue = store.contains(value);
            if (hasKey != hasValue && Float.isNaN(shared)) {
                throw error(hasKey ? key : value, "a KV-cache scale for " + (hasKey ? "K" : "V") + " alone; expected "
                        + (hasKey ? value : key) + " beside it, or " + both);
            }
            keys[i] = hasKey ? scale(key) : Float.isNaN(shared) ? 1f : shared;
            values[i] = hasValue ? scale(value) : Float.isNaN(shared) ? 1f : shared;
            if (hasKey || !Float.isNaN(shared)) calibrated++;
        }
        if (calibrated > 0 && calibrated < layers) {
            warnings.add("FP8 KV-cache scales for " + calibrated + " of " + layers + " layers; the others use 1");
        }
        return new KvCacheScales(keys, values);
    }

    /** A one-element scale ({@code []}, {@code [1]} or {@code [1,1]}), finite and positive. */
    private float scale(String name) {
        Tensor t = store.tensor(name);
        used.add(name);
        if (!SCALE_TYPES.contains(t.dtype()) || t.rank() > 2 || t.elementCount() != 1) {
            throw error(name, "a scale must be one F32/BF16/F16 value of shape [], [1] or [1,1], found " + t.dtype()
                    + Arrays.toString(t.shape()));
        }
        count(name, false);
        float value = t.scalar();
        if (!(value > 0) || !Float.isFinite(value)) throw error(name, "scale " + value + " is not a finite positive number");
        return value;
    }

    private Tensor use(String name, long... shape) {
        SafetensorsHeader.Entry e = store.entry(name);
        if (!Arrays.equals(e.shape(), shape)) {
            throw error(name, "shape " + Arrays.toString(e.shape()) + " disagrees with the config, expected " + Arrays.toString(shape));
        }
        if (!WEIGHT_TYPES.contains(e.dtype())) throw error(name, "dtype " + e.dtype() + " is not supported for weights");
        used.add(name);
        count(name, true);
        return store.tensor(name);
    }

    private void count(String name, boolean isParameter) {
        SafetensorsHeader.Entry e = store.entry(name);
        bytes.merge(e.dtype(), e.byteSize(), Long::sum);
        if (isParameter) parameters += e.elementCount();
    }

    private void checkEverythingUsed() {
        int skipped = 0;
        for (String name : store.names()) {
            if (used.contains(name)) continue;
            if (!names.isSkipped(name)) throw error(name, "unexpected tensor: not part of the model the config describes");
            skipped++;
        }
        if (skipped > 0) warnings.add("skipped " + skipped + " vision / fake-quantizer tensors");
    }

    private CheckpointException error(String name, String problem) {
        Path file = store.fileOf(name);
        return CheckpointException.tensor(file, name, problem);
    }
}
