package io.tramontane.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.weights.CheckpointException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code config.json} of an HF checkpoint: {@code MistralForCausalLM}, {@code MixtralForCausalLM},
 * {@code Ministral3ForCausalLM}, or the text part ({@code text_config}) of {@code Mistral3ForConditionalGeneration}.
 */
final class HfConfigReader {
    private HfConfigReader() {}

    private static final Set<String> ARCHITECTURES = Set.of(
            "MistralForCausalLM", "MixtralForCausalLM", "Ministral3ForCausalLM", "Mistral3ForConditionalGeneration");
    /** Keys that do not change the forward pass: token ids, training-only knobs, bookkeeping. */
    private static final String[] HARMLESS = {
            "model_type", "bos_token_id", "eos_token_id", "pad_token_id", "use_cache", "torch_dtype", "dtype",
            "transformers_version", "attention_dropout", "initializer_range", "router_aux_loss_coef",
            "output_router_logits", "router_jitter_noise", "_name_or_path", "use_sliding_window", "max_window_layers",
    };

    static ConfigFile read(Path file) {
        ConfigFields top = ConfigFields.read(file);
        List<String> warnings = new ArrayList<>();
        String architecture = architecture(top);
        ConfigFields text = top;
        if (architecture.equals("Mistral3ForConditionalGeneration")) {
            text = top.object("text_config");
            if (text == null) throw top.error("text_config", "missing (needed for " + architecture + ")");
            if (top.has("vision_config")) warnings.add("vision tower present: skipped (text-only engine)");
            top.ignore("image_token_index", "image_token_id", "projector_hidden_act", "multimodal_projector_bias",
                    "spatial_merge_size", "vision_feature_layer", "tie_word_embeddings");
            top.ignore(HARMLESS);
        }
        ConfigFields t = text;

        int dim = t.requireInt("hidden_size");
        int nHeads = t.requireInt("num_attention_heads");
        int headDim = t.has("head_dim") ? t.requireInt("head_dim") : nHeads > 0 ? dim / nHeads : 0;
        String act = t.textOr("hidden_act", "silu");
        if (!act.equals("silu")) throw t.error("hidden_act", "only silu (SwiGLU) is supported, found " + act);
        if (t.boolOr("attention_bias", false)) throw t.error("attention_bias", "attention biases are not supported");
        if (t.boolOr("mlp_bias", false)) throw t.error("mlp_bias", "MLP biases are not supported");
        if (t.has("sliding_window")) throw t.error("sliding_window", "sliding-window attention is not supported");
        if (t.has("layer_types")) {
            for (JsonNode type : t.raw("layer_types")) {
                if (!type.asText().equals("full_attention")) throw t.error("layer_types", "only full_attention is supported, found " + type);
            }
        }
        for (String softcap : List.of("final_logit_softcapping", "attn_logit_softcapping")) {
            if (t.has(softcap)) throw t.error(softcap, "logit soft-capping is not supported");
        }

        ConfigFields rope = t.object("rope_parameters");
        if (rope == null) rope = t.object("rope_scaling");
        double ropeTheta = t.has("rope_theta") || rope == null || !rope.has("rope_theta")
                ? t.requireDouble("rope_theta") : rope.requireDouble("rope_theta");
        if (rope != null && rope.has("rope_theta") && rope.requireDouble("rope_theta") != ropeTheta) {
            throw rope.error("rope_theta", "disagrees with the top-level rope_theta " + ropeTheta);
        }
        long maxPositions = t.intOr("max_position_embeddings", 0);
        ModelConfig.Yarn yarn = null;
        ModelConfig.QueryTemperature temperature = null;
        if (rope != null) {
            String type = ropeType(rope);
            if (type.equals("yarn")) yarn = yarn(rope, maxPositions);
            temperature = temperature(rope);
            if (rope.doubleOr("partial_rotary_factor", 1) != 1) throw rope.error("partial_rotary_factor", "partial RoPE is not supported");
            rope.rejectUnread();
        }
        ModelConfig.Moe moe = null;
        if (t.has("num_local_experts")) {
            int experts = t.requireInt("num_local_experts"), topK = t.requireInt("num_experts_per_tok");
            if (experts <= 0 || topK <= 0 || topK > experts) throw t.error("num_experts_per_tok", topK + " of " + experts + " experts");
            moe = new ModelConfig.Moe(experts, topK);
        }
        ConfigFields q = top.object("quantization_config");
        if (q == null && text != top) q = text.object("quantization_config");
        ModelConfig.Quantization quantization = quantization(q);

        int nLayers = t.requireInt("num_hidden_layers");
        int nKvHeads = t.requireInt("num_key_value_heads");
        int hiddenDim = t.requireInt("intermediate_size");
        int vocab = t.requireInt("vocab_size");
        float normEps = (float) t.requireDouble("rms_norm_eps");
        boolean tied = t.boolOr("tie_word_embeddings", false);
        t.ignore(HARMLESS);
        top.ignore("architectures");
        for (String key : top.unread()) warnings.add("ignored unknown field '" + key + "'");
        ModelConfig config;
        try {
            config = new ModelConfig(architecture, dim, nLayers, nHeads, nKvHeads,
                headDim, hiddenDim, vocab, normEps, ropeTheta, yarn, temperature, moe, tied, quantization, maxPositions);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, null, e.getMessage());
        }
        return new ConfigFile(file, config, warnings);
    }

    private static String architecture(ConfigFields top) {
        JsonNode list = top.raw("architectures");
        if (list == null || !list.isArray() || list.size() != 1 || !list.get(0).isTextual()) {
            throw top.error("architectures", "expected a list with one architecture name, found " + list);
        }
        String name = list.get(0).textValue();
        if (!ARCHITECTURES.contains(name)) throw top.error("architectures", "unsupported architecture " + name + ", expected one of " + ARCHITECTURES);
        return name;
    }

    private static String ropeType(ConfigFields rope) {
        String type = rope.textOr("rope_type", null);
        String legacy = rope.textOr("type", null);
        if (type != null && legacy != null && !type.equals(legacy)) throw rope.error("type", "disagrees with rope_type " + type);
        if (type == null) type = legacy == null ? "default" : legacy;
        if (!type.equals("default") && !type.equals("yarn")) throw rope.error("rope_type", "only default and yarn are supported, found " + type);
        return type;
    }

    /** Attention factor: explicit, else the mscale / mscale_all_dim ratio when both are non-zero, else g(s, 1). */
    private static ModelConfig.Yarn yarn(ConfigFields rope, long maxPositions) {
        double factor = rope.requireDouble("factor");
        int original = rope.intOr("original_max_position_embeddings", (int) maxPositions);
        if (factor <= 0 || original <= 0) throw rope.error("original_max_position_embeddings", "factor and original length must be positive");
        double betaFast = rope.doubleOr("beta_fast", 32);
        double betaSlow = rope.doubleOr("beta_slow", 1);
        if (!rope.boolOr("truncate", true)) throw rope.error("truncate", "untruncated YaRN bounds are not supported");
        double mscale = rope.doubleOr("mscale", 0), mscaleAllDim = rope.doubleOr("mscale_all_dim", 0);
        double attentionFactor;
        if (rope.has("attention_factor")) attentionFactor = rope.requireDouble("attention_factor");
        else if (mscale != 0 && mscaleAllDim != 0) {
            attentionFactor = ConfigFile.yarnMagnitude(factor, mscale) / ConfigFile.yarnMagnitude(factor, mscaleAllDim);
        } else attentionFactor = ConfigFile.yarnMagnitude(factor, 1);
        return new ModelConfig.Yarn(factor, original, betaFast, betaSlow, attentionFactor);
    }

    /** {@code llama_4_scaling_beta}, with L = {@code original_max_position_embeddings} of the same block. */
    private static ModelConfig.QueryTemperature temperature(ConfigFields rope) {
        double beta = rope.doubleOr("llama_4_scaling_beta", 0);
        if (beta == 0) return null;
        int original = rope.intOr("original_max_position_embeddings", 0);
        if (original <= 0) throw rope.error("original_max_position_embeddings", "needed by llama_4_scaling_beta");
        return new ModelConfig.QueryTemperature(beta, original);
    }

    /** {@code quant_method fp8} with per-tensor scales; block scales are rejected. */
    private static ModelConfig.Quantization quantization(ConfigFields q) {
        if (q == null) return null;
        String method = q.textOr("quant_method", null);
        if (!"fp8".equals(method)) throw q.error("quant_method", "only fp8 is supported, found " + method);
        if (q.has("weight_block_size")) throw q.error("weight_block_size", "block-scaled FP8 is not supported");
        String format = q.textOr("fmt", "e4m3");
        if (!format.equals("e4m3")) throw q.error("fmt", "only e4m3 is supported, found " + format);
        String scheme = q.textOr("activation_scheme", "dynamic");
        boolean staticScales = switch (scheme) {
            case "static" -> true;
            case "dynamic" -> false;
            default -> throw q.error("activation_scheme", "only static or dynamic are supported, found " + scheme);
        };
        q.ignore("modules_to_not_convert", "dequantize");
        q.rejectUnread();
        return new ModelConfig.Quantization(staticScales, null);
    }
}
