package io.tramontane.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Test generator: a small random model written in the Mistral-native and the HF layout, independent of
 * the loader's own name tables. Tensors are generated in canonical (HF, rotate-half) row order; the
 * native files get q/k rows moved back to interleaved pairs, as the conversion scripts' inverse.
 */
record TinyModel(int dim, int layers, int heads, int kvHeads, int headDim, int hidden, int vocab, int experts, int topK,
                 DType dtype, boolean fp8, long[] scaleShape, DType scaleDType, boolean tied, int shards,
                 boolean multimodal, KvScales kvScales, long seed) {

    /** FP8 KV-cache scale tensors to write: none, one per layer for K and V, or a K and a V scale per layer. */
    enum KvScales { NONE, SHARED, PAIR }

    static final ObjectMapper JSON = new ObjectMapper();

    static TinyModel dense(long seed) {
        return new TinyModel(32, 2, 4, 2, 8, 48, 100, 0, 0, DType.BF16, false, null, null, false, 1, false, KvScales.NONE, seed);
    }

    TinyModel withMoe(int experts, int topK) {
        return new TinyModel(dim, layers, heads, kvHeads, headDim, hidden, vocab, experts, topK, dtype, fp8, scaleShape, scaleDType, tied, shards, multimodal, kvScales, seed);
    }

    TinyModel withFp8(long[] scaleShape, DType scaleDType) {
        return new TinyModel(dim, layers, heads, kvHeads, headDim, hidden, vocab, experts, topK, DType.BF16, true, scaleShape, scaleDType, tied, shards, multimodal, kvScales, seed);
    }

    TinyModel withDType(DType dtype) {
        return new TinyModel(dim, layers, heads, kvHeads, headDim, hidden, vocab, experts, topK, dtype, fp8, scaleShape, scaleDType, tied, shards, multimodal, kvScales, seed);
    }

    TinyModel withTied() {
        return new TinyModel(dim, layers, heads, kvHeads, headDim, hidden, vocab, experts, topK, dtype, fp8, scaleShape, scaleDType, true, shards, multimodal, kvScales, seed);
    }

    TinyModel withShards(int shards) {
        return new TinyModel(dim, layers, heads, kvHeads, headDim, hidden, vocab, experts, topK, dtype, fp8, scaleShape, scaleDType, tied, shards, multimodal, kvScales, seed);
    }

    TinyModel withKvScales(KvScales kvScales) {
        return new TinyModel(dim, layers, heads, kvHeads, headDim, hidden, vocab, experts, topK, dtype, fp8, scaleShape, scaleDType, tied, shards, multimodal, kvScales, seed);
    }

    /** The K and V scales written for {@code layer}: {key, value}. */
    float[] kvScale(int layer) {
        return switch (kvScales) {
            case NONE -> new float[] {1, 1};
            case SHARED -> new float[] {0.75f * (layer + 1), 0.75f * (layer + 1)};
            case PAIR -> new float[] {0.25f * (layer + 1), 0.5f * (layer + 1)};
        };
    }

    TinyModel withMultimodal() {
        return new TinyModel(dim, layers, heads, kvHeads, headDim, hidden, vocab, experts, topK, dtype, fp8, scaleShape, scaleDType, tied, shards, true, kvScales, seed);
    }

    /** One generated tensor: canonical key, dtype, shape, bytes in canonical row order. */
    record Gen(String key, DType dtype, long[] shape, byte[] bytes) {}

    /** Canonical keys: "embed", "norm", "output", "L.attention_norm", "L.wq", "L.e.w1" (expert), "L.w1.scale" ... */
    List<Gen> tensors() {
        Random random = new Random(seed);
        List<Gen> out = new ArrayList<>();
        DType plain = fp8 ? DType.BF16 : dtype;
        out.add(gen(random, "embed", plain, vocab, dim));
        for (int l = 0; l < layers; l++) {
            out.add(gen(random, l + ".attention_norm", plain, dim));
            linear(random, out, l + ".wq", heads * headDim, dim);
            linear(random, out, l + ".wk", kvHeads * headDim, dim);
            linear(random, out, l + ".wv", kvHeads * headDim, dim);
            linear(random, out, l + ".wo", dim, heads * headDim);
            out.add(gen(random, l + ".ffn_norm", plain, dim));
            if (experts == 0) {
                mlp(random, out, l + ".");
            } else {
                out.add(gen(random, l + ".router", plain, experts, dim));
                for (int e = 0; e < experts; e++) mlp(random, out, l + "." + e + ".");
            }
        }
        out.add(gen(random, "norm", plain, dim));
        if (!tied) out.add(gen(random, "output", plain, vocab, dim));
        return out;
    }

    private void mlp(Random random, List<Gen> out, String prefix) {
        linear(random, out, prefix + "w1", hidden, dim);
        linear(random, out, prefix + "w2", dim, hidden);
        linear(random, out, prefix + "w3", hidden, dim);
    }

    private void linear(Random random, List<Gen> out, String key, long rows, long cols) {
        if (!fp8) {
            out.add(gen(random, key, dtype, rows, cols));
            return;
        }
        out.add(gen(random, key, DType.F8_E4M3, rows, cols));
        out.add(scale(key + ".wscale", 0.01f + random.nextFloat()));
        out.add(scale(key + ".ascale", 0.01f + random.nextFloat()));
    }

    private Gen scale(String key, float value) {
        byte[] bytes = switch (scaleDType) {
            case F32 -> floatBytes(value);
            case BF16 -> shortBytes(Floats.floatToBf16(value));
            case F16 -> shortBytes(Float.floatToFloat16(value));
            default -> throw new IllegalArgumentException(scaleDType.name());
        };
        int n = 1;
        for (long d : scaleShape) n *= (int) d;
        byte[] repeated = new byte[n * bytes.length];
        for (int i = 0; i < n; i++) System.arraycopy(bytes, 0, repeated, i * bytes.length, bytes.length);
        return new Gen(key, scaleDType, scaleShape, repeated);
    }

    private static Gen kvGen(float value) {
        return new Gen("kv", DType.F32, new long[] {}, floatBytes(value));
    }

    private static byte[] floatBytes(float v) {
        int b = Float.floatToRawIntBits(v);
        return new byte[] {(byte) b, (byte) (b >> 8), (byte) (b >> 16), (byte) (b >> 24)};
    }

    private static byte[] shortBytes(short s) {
        return new byte[] {(byte) s, (byte) (s >> 8)};
    }

    /** Random bytes; for F32/BF16 finite values in about [-1, 1] so they look like weights. */
    private static Gen gen(Random random, String key, DType dtype, long... shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        byte[] bytes = new byte[n * dtype.bytes()];
        if (dtype == DType.F8_E4M3) {
            random.nextBytes(bytes);
        } else {
            for (int i = 0; i < n; i++) {
                float v = (float) random.nextGaussian() * 0.5f;
                byte[] b = dtype == DType.F32 ? floatBytes(v) : shortBytes(Floats.floatToBf16(v));
                System.arraycopy(b, 0, bytes, i * b.length, b.length);
            }
        }
        return new Gen(key, dtype, shape, bytes);
    }

    // ---- names, independent of the loader's tables (MODELS.md 2.3, 2.4, 2.6, 2.7) ----

    String nativeName(String key) {
        String[] p = key.split("\\.");
        if (p.length == 1) {
            return switch (key) {
                case "embed" -> "tok_embeddings.weight";
                case "norm" -> "norm.weight";
                default -> "output.weight";
            };
        }
        String layer = "layers." + p[0] + ".";
        String suffix = key.endsWith(".wscale") ? "qscale_weight" : key.endsWith(".ascale") ? "qscale_act" : "weight";
        String module = switch (p[1]) {
            case "attention_norm" -> "attention_norm";
            case "ffn_norm" -> "ffn_norm";
            case "wq", "wk", "wv", "wo" -> "attention." + p[1];
            case "w1", "w2", "w3" -> "feed_forward." + p[1];
            case "router" -> "feed_forward.gate";
            default -> "feed_forward.experts." + p[1] + "." + p[2];
        };
        return layer + module + "." + suffix;
    }

    String hfName(String key) {
        String model = multimodal ? "model.language_model." : "model.";
        String[] p = key.split("\\.");
        if (p.length == 1) {
            return switch (key) {
                case "embed" -> model + "embed_tokens.weight";
                case "norm" -> model + "norm.weight";
                default -> "lm_head.weight";
            };
        }
        String layer = model + "layers." + p[0] + ".";
        String suffix = key.endsWith(".wscale") ? "weight_scale_inv" : key.endsWith(".ascale") ? "activation_scale" : "weight";
        String module = switch (p[1]) {
            case "attention_norm" -> "input_layernorm";
            case "ffn_norm" -> "post_attention_layernorm";
            case "wq" -> "self_attn.q_proj";
            case "wk" -> "self_attn.k_proj";
            case "wv" -> "self_attn.v_proj";
            case "wo" -> "self_attn.o_proj";
            case "w1" -> "mlp.gate_proj";
            case "w2" -> "mlp.down_proj";
            case "w3" -> "mlp.up_proj";
            case "router" -> "block_sparse_moe.gate";
            default -> "block_sparse_moe.experts." + p[1] + "." + p[2];
        };
        return layer + module + "." + suffix;
    }

    /** Native q/k rows: HF row h*D + j*D/2 + i holds native row h*D + 2i + j. */
    private byte[] toNativeRows(Gen g) {
        int rowBytes = (int) g.shape()[1] * g.dtype().bytes(), half = headDim / 2;
        byte[] out = new byte[g.bytes().length];
        for (int h = 0; h < g.shape()[0] / headDim; h++) {
            for (int j = 0; j < 2; j++) {
                for (int i = 0; i < half; i++) {
                    System.arraycopy(g.bytes(), (h * headDim + j * half + i) * rowBytes, out, (h * headDim + 2 * i + j) * rowBytes, rowBytes);
                }
            }
        }
        return out;
    }

    private static boolean isQk(String key) {
        return key.endsWith(".wq") || key.endsWith(".wk");
    }

    // ---- files ----

    void writeNative(Path dir) {
        ObjectNode params = JSON.createObjectNode();
        params.put("dim", dim).put("n_layers", layers).put("head_dim", headDim).put("hidden_dim", hidden)
                .put("n_heads", heads).put("n_kv_heads", kvHeads).put("norm_eps", 1e-5).put("vocab_size", vocab)
                .put("rope_theta", 1e6);
        if (tied) params.put("tied_embeddings", true);
        if (experts > 0) params.putObject("moe").put("num_experts", experts).put("num_experts_per_tok", topK);
        if (fp8) params.putObject("quantization").put("qformat_weight", "fp8_e4m3").put("qscheme_act", "TENSOR");
        if (multimodal) params.putObject("vision_encoder").put("hidden_size", 16);
        Map<String, Gen> named = new LinkedHashMap<>();
        for (Gen g : tensors()) {
            named.put(nativeName(g.key()), isQk(g.key()) ? new Gen(g.key(), g.dtype(), g.shape(), toNativeRows(g)) : g);
        }
        if (multimodal) {
            named.put("vision_encoder.patch_conv.weight", new Gen("v", DType.BF16, new long[] {4, 4}, new byte[32]));
            named.put("layers.0.attention.q_fake_quantizer.qscale_act", new Gen("q", DType.F32, new long[] {}, floatBytes(1)));
        }
        for (int l = 0; l < layers && kvScales != KvScales.NONE; l++) {
            String prefix = "layers." + l + ".attention.";
            if (kvScales == KvScales.SHARED) {
                named.put(prefix + "kv_fake_quantizer.qscale_act", kvGen(kvScale(l)[0]));
            } else {
                named.put(prefix + "k_fake_quantizer.qscale_act", kvGen(kvScale(l)[0]));
                named.put(prefix + "v_fake_quantizer.qscale_act", kvGen(kvScale(l)[1]));
            }
        }
        write(dir, "params.json", params, "consolidated", named);
    }

    void writeHf(Path dir) {
        ObjectNode text = JSON.createObjectNode();
        text.put("model_type", experts > 0 ? "mixtral" : "mistral").put("vocab_size", vocab).put("hidden_size", dim)
                .put("intermediate_size", hidden).put("num_hidden_layers", layers).put("num_attention_heads", heads)
                .put("num_key_value_heads", kvHeads).put("head_dim", headDim).put("hidden_act", "silu")
                .put("rms_norm_eps", 1e-5).put("rope_theta", 1e6).put("tie_word_embeddings", tied).putNull("sliding_window");
        if (experts > 0) text.put("num_local_experts", experts).put("num_experts_per_tok", topK);
        ObjectNode config = text;
        if (multimodal) {
            config = JSON.createObjectNode();
            config.put("model_type", "mistral3");
            config.set("text_config", text);
            config.putObject("vision_config").put("hidden_size", 16);
        }
        config.putArray("architectures").add(multimodal ? "Mistral3ForConditionalGeneration"
                : experts > 0 ? "MixtralForCausalLM" : "MistralForCausalLM");
        if (fp8) {
            config.putObject("quantization_config").put("quant_method", "fp8").put("activation_scheme", "static")
                    .putNull("weight_block_size");
        }
        Map<String, Gen> named = new LinkedHashMap<>();
        for (Gen g : tensors()) named.put(hfName(g.key()), g);
        if (multimodal) named.put("model.vision_tower.patch_conv.weight", new Gen("v", DType.BF16, new long[] {4, 4}, new byte[32]));
        for (int l = 0; l < layers && kvScales != KvScales.NONE; l++) {
            String prefix = (multimodal ? "model.language_model." : "model.") + "layers." + l + ".self_attn.";
            if (kvScales == KvScales.SHARED) {
                named.put(prefix + "kv_scale", kvGen(kvScale(l)[0]));
            } else {
                named.put(prefix + "k_scale", kvGen(kvScale(l)[0]));
                named.put(prefix + "v_scale", kvGen(kvScale(l)[1]));
            }
        }
        write(dir, "config.json", config, "model", named);
    }

    private void write(Path dir, String configName, ObjectNode config, String stem, Map<String, Gen> named) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(configName), config.toPrettyString());
            if (shards == 1) {
                writer(named, 0, 1).write(dir.resolve(stem + ".safetensors"));
                return;
            }
            ObjectNode index = JSON.createObjectNode();
            long total = 0;
            for (Gen g : named.values()) total += g.bytes().length;
            index.putObject("metadata").put("total_size", total);
            ObjectNode weightMap = index.putObject("weight_map");
            for (int s = 0; s < shards; s++) {
                String file = String.format("%s-%05d-of-%05d.safetensors", stem, s + 1, shards);
                writer(named, s, shards).write(dir.resolve(file));
                int i = 0;
                for (String name : named.keySet()) if (i++ % shards == s) weightMap.put(name, file);
            }
            Files.writeString(dir.resolve(stem + ".safetensors.index.json"), index.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static SafetensorsWriter writer(Map<String, Gen> named, int shard, int shards) {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        int i = 0;
        for (Map.Entry<String, Gen> e : named.entrySet()) {
            if (i++ % shards != shard) continue;
            w.add(e.getKey(), e.getValue().dtype(), e.getValue().shape(), MemorySegment.ofArray(e.getValue().bytes()));
        }
        return w;
    }
}
