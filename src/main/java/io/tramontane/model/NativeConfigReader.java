package io.tramontane.model;

import io.tramontane.weights.CheckpointException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code params.json} of a Mistral-native checkpoint (key mapping: MODELS.md 2.2). */
final class NativeConfigReader {
    private NativeConfigReader() {}

    static ConfigFile read(Path file) {
        ConfigFields f = ConfigFields.read(file);
        List<String> warnings = new ArrayList<>();

        int dim = f.requireInt("dim");
        int nHeads = f.requireInt("n_heads");
        int headDim;
        if (f.has("head_dim")) {
            headDim = f.requireInt("head_dim");
        } else {
            headDim = nHeads > 0 ? dim / nHeads : 0;
            warnings.add("params.json has no head_dim; using dim / n_heads = " + headDim);
        }
        double ropeTheta = 1e6;
        if (f.has("rope_theta")) ropeTheta = f.requireDouble("rope_theta");
        else warnings.add("params.json has no rope_theta; using mistral-inference's default 1e6");
        long maxPositions = f.intOr("max_position_embeddings", f.intOr("max_seq_len", 0));

        if (f.has("sliding_window")) throw f.error("sliding_window", "sliding-window attention is not supported");
        if (f.boolOr("use_biases", false)) throw f.error("use_biases", "linear biases are not supported");
        if (f.boolOr("qk_norm", false)) throw f.error("qk_norm", "q/k normalization is not supported");
        if (f.has("lora")) throw f.error("lora", "LoRA adapters are not supported");

        ModelConfig.Yarn yarn = yarn(f.object("yarn"));
        ModelConfig.QueryTemperature temperature = temperature(f.object("llama_4_scaling"));
        ModelConfig.Moe moe = moe(f.object("moe"), f);
        ModelConfig.Quantization quantization = quantization(f.object("quantization"));
        boolean vision = f.has("vision_encoder");
        if (vision) warnings.add("vision encoder present: skipped (text-only engine)");
        f.ignore("max_batch_size", "model_type");

        String architecture = moe != null ? "MixtralForCausalLM"
                : vision ? "Mistral3ForConditionalGeneration"
                : yarn != null || temperature != null ? "Ministral3ForCausalLM"
                : "MistralForCausalLM";
        int nLayers = f.requireInt("n_layers");
        int nKvHeads = f.requireInt("n_kv_heads");
        int hiddenDim = f.requireInt("hidden_dim");
        int vocab = f.requireInt("vocab_size");
        float normEps = (float) f.requireDouble("norm_eps");
        boolean tied = f.boolOr("tied_embeddings", false);
        for (String key : f.unread()) warnings.add("ignored unknown field '" + key + "'");
        ModelConfig config;
        try {
            config = new ModelConfig(architecture, dim, nLayers, nHeads, nKvHeads,
                headDim, hiddenDim, vocab, normEps, ropeTheta, yarn, temperature, moe, tied, quantization, maxPositions);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, null, e.getMessage());
        }
        return new ConfigFile(file, config, warnings);
    }

    /** {@code yarn {factor, original_max_position_embeddings, beta, alpha, apply_scale}}; beta/alpha = beta_fast/beta_slow. */
    private static ModelConfig.Yarn yarn(ConfigFields y) {
        if (y == null) return null;
        double factor = y.requireDouble("factor");
        int original = y.requireInt("original_max_position_embeddings");
        double betaFast = y.doubleOr("beta", 32);
        double betaSlow = y.doubleOr("alpha", 1);
        boolean applyScale = y.boolOr("apply_scale", true);
        y.rejectUnread();
        if (factor <= 0 || original <= 0) throw y.error("factor", "factor and original_max_position_embeddings must be positive");
        return new ModelConfig.Yarn(factor, original, betaFast, betaSlow,
                applyScale ? ConfigFile.yarnMagnitude(factor, 1) : 1);
    }

    /** {@code llama_4_scaling {beta, original_max_position_embeddings}}; beta 0 disables it. */
    private static ModelConfig.QueryTemperature temperature(ConfigFields t) {
        if (t == null) return null;
        double beta = t.requireDouble("beta");
        int original = t.requireInt("original_max_position_embeddings");
        t.rejectUnread();
        if (beta == 0) return null;
        if (original <= 0) throw t.error("original_max_position_embeddings", "must be positive");
        return new ModelConfig.QueryTemperature(beta, original);
    }

    /** Mixtral-style only: the DeepSeek-style extensions of newer Mistral MoE models are errors unless neutral. */
    private static ModelConfig.Moe moe(ConfigFields m, ConfigFields top) {
        if (m == null) return null;
        int experts = m.requireInt("num_experts");
        int topK = m.requireInt("num_experts_per_tok");
        if (m.intOr("num_shared_experts", 0) != 0) throw m.error("num_shared_experts", "shared experts are not supported");
        if (m.intOr("first_k_dense_replace", 0) != 0) throw m.error("first_k_dense_replace", "mixed dense/MoE layers are not supported");
        if (m.doubleOr("routed_scale", 1) != 1) throw m.error("routed_scale", "scaled routing is not supported");
        if (m.intOr("num_expert_groups", 1) != 1) throw m.error("num_expert_groups", "grouped routing is not supported");
        if (m.intOr("num_expert_groups_per_tok", 1) != 1) throw m.error("num_expert_groups_per_tok", "grouped routing is not supported");
        if (m.has("expert_hidden_dim") && m.requireInt("expert_hidden_dim") != top.requireInt("hidden_dim")) {
            throw m.error("expert_hidden_dim", "an expert size different from hidden_dim is not supported");
        }
        m.rejectUnread();
        if (experts <= 0 || topK <= 0 || topK > experts) {
            throw m.error("num_experts_per_tok", topK + " of " + experts + " experts");
        }
        return new ModelConfig.Moe(experts, topK);
    }

    /** {@code quantization {qformat_weight: fp8_e4m3, qscheme_act: TENSOR | NO_SCALES}}. */
    private static ModelConfig.Quantization quantization(ConfigFields q) {
        if (q == null) return null;
        String format = q.textOr("qformat_weight", null);
        if (!"fp8_e4m3".equals(format)) throw q.error("qformat_weight", "only fp8_e4m3 is supported, found " + format);
        String act = q.textOr("qscheme_act", "TENSOR");
        boolean staticScales = switch (act) {
            case "TENSOR" -> true;
            case "NO_SCALES" -> false;
            default -> throw q.error("qscheme_act", "only TENSOR or NO_SCALES are supported, found " + act);
        };
        if (q.has("weight_block_size")) throw q.error("weight_block_size", "block-scaled FP8 is not supported");
        q.rejectUnread();
        return new ModelConfig.Quantization(staticScales, null);
    }
}
