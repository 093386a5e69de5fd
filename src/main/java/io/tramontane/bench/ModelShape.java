package io.tramontane.bench;

import io.tramontane.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A dense Mistral-shaped model described on the command line, e.g.
 * {@code dim=2048,layers=16,heads=32,kv_heads=8,head_dim=64,hidden=5632,vocab=32768}
 * ({@code head_dim} defaults to {@code dim / heads}).
 */
public final class ModelShape {
    private static final List<String> KEYS = List.of("dim", "layers", "heads", "kv_heads", "head_dim", "hidden", "vocab");

    private ModelShape() {}

    public static ModelConfig parse(String spec) {
        Map<String, Integer> values = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            String[] kv = part.strip().split("=", 2);
            if (kv.length != 2 || !KEYS.contains(kv[0].strip())) {
                throw new IllegalArgumentException("shape: expected key=value with keys " + KEYS + ", got '" + part + "'");
            }
            try {
                values.put(kv[0].strip(), Integer.parseInt(kv[1].strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("shape: " + kv[0].strip() + " must be an integer, got '" + kv[1] + "'");
            }
        }
        for (String key : KEYS) {
            if (!key.equals("head_dim") && !values.containsKey(key)) throw new IllegalArgumentException("shape: missing " + key);
        }
        int dim = values.get("dim"), heads = values.get("heads");
        return new ModelConfig("MistralForCausalLM", dim, values.get("layers"), heads, values.get("kv_heads"),
                values.getOrDefault("head_dim", dim / Math.max(1, heads)), values.get("hidden"), values.get("vocab"),
                1e-5f, 1e6, null, null, null, false, null, 0);
    }

    /** The shape of any dense or MoE config in the same notation (MoE experts are not part of it). */
    public static String describe(ModelConfig c) {
        return "dim=" + c.dim() + ",layers=" + c.nLayers() + ",heads=" + c.nHeads() + ",kv_heads=" + c.nKvHeads()
                + ",head_dim=" + c.headDim() + ",hidden=" + c.hiddenDim() + ",vocab=" + c.vocabSize();
    }
}
