package io.tramontane.weights;

import java.util.List;
import java.util.Set;

/**
 * Where each canonical tensor lives in one layout's naming scheme (MODELS.md 2.3, 2.4, 2.6, 2.7).
 * Methods return module prefixes: the weight is {@code prefix + ".weight"}, the FP8 scales are
 * {@link #weightScale} / {@link #activationScale} of the same prefix.
 */
sealed interface TensorNames {

    enum Part { ATTENTION_NORM, WQ, WK, WV, WO, FFN_NORM, W1, W2, W3, ROUTER }

    String embeddings();

    String finalNorm();

    String output();

    String layer(int layer, Part part);

    /** {@code part}: W1, W2 or W3 of expert {@code expert}. */
    String expert(int layer, int expert, Part part);

    String weightScale(String prefix);

    String activationScale(String prefix);

    /** The FP8 KV-cache scale of layer {@code layer} for both K and V, where a checkpoint has one. */
    String kvScale(int layer);

    /** The FP8 KV-cache scale of layer {@code layer}'s keys (with {@link #valueScale}, instead of {@link #kvScale}). */
    String keyScale(int layer);

    String valueScale(int layer);

    /** Tensors a text-only engine does not use (vision tower, projector, q fake-quantizer scales). */
    boolean isSkipped(String name);

    /** {@code layers.i.attention.wq}, {@code qscale_weight}/{@code qscale_act}. */
    record Native() implements TensorNames {
        private static final List<String> SKIPPED = List.of("vision_encoder.", "vision_language_adapter.", "patch_merger.",
                "pre_mm_projector_norm.");

        public String embeddings() { return "tok_embeddings"; }

        public String finalNorm() { return "norm"; }

        public String output() { return "output"; }

        public String layer(int layer, Part part) {
            return "layers." + layer + "." + switch (part) {
                case ATTENTION_NORM -> "attention_norm";
                case WQ -> "attention.wq";
                case WK -> "attention.wk";
                case WV -> "attention.wv";
                case WO -> "attention.wo";
                case FFN_NORM -> "ffn_norm";
                case W1 -> "feed_forward.w1";
                case W2 -> "feed_forward.w2";
                case W3 -> "feed_forward.w3";
                case ROUTER -> "feed_forward.gate";
            };
        }

        public String expert(int layer, int expert, Part part) {
            return "layers." + layer + ".feed_forward.experts." + expert + "." + part.name().toLowerCase();
        }

        public String weightScale(String prefix) { return prefix + ".qscale_weight"; }

        public String activationScale(String prefix) { return prefix + ".qscale_act"; }

        public String kvScale(int layer) { return "layers." + layer + ".attention.kv_fake_quantizer.qscale_act"; }

        public String keyScale(int layer) { return "layers." + layer + ".attention.k_fake_quantizer.qscale_act"; }

        public String valueScale(int layer) { return "layers." + layer + ".attention.v_fake_quantizer.qscale_act"; }

        public boolean isSkipped(String name) {
            return name.contains("_fake_quantizer.") || SKIPPED.stream().anyMatch(name::startsWith);
        }
    }

    /**
     * {@code <model>layers.i.self_attn.q_proj}, {@code weight_scale_inv}/{@code activation_scale}, where
     * {@code <model>} is {@code model.}, or {@code model.language_model.} / {@code language_model.model.}
     * for the text part of a multimodal checkpoint.
     */
    record Hf(String model, String head) implements TensorNames {
        private static final List<String> SKIPPED = List.of("model.vision_tower.", "model.multi_modal_projector.",
                "vision_tower.", "multi_modal_projector.");

        /** The prefix whose embedding tensor exists, {@code model.} when none does (reported as missing later). */
        static Hf detect(Set<String> names) {
            for (String model : List.of("model.", "model.language_model.", "language_model.model.")) {
                if (names.contains(model + "embed_tokens.weight")) {
                    String head = model.equals("language_model.model.") ? "language_model.lm_head" : "lm_head";
                    return new Hf(model, head);
                }
            }
            return new Hf("model.", "lm_head");
        }

        public String embeddings() { return model + "embed_tokens"; }

        public String finalNorm() { return model + "norm"; }

        public String output() { return head; }

        public String layer(int layer, Part part) {
            return model + "layers." + layer + "." + switch (part) {
                case ATTENTION_NORM -> "input_layernorm";
                case WQ -> "self_attn.q_proj";
                case WK -> "self_attn.k_proj";
                case WV -> "self_attn.v_proj";
                case WO -> "self_attn.o_proj";
                case FFN_NORM -> "post_attention_layernorm";
                case W1 -> "mlp.gate_proj";
                case W2 -> "mlp.down_proj";
                case W3 -> "mlp.up_proj";
                case ROUTER -> "block_sparse_moe.gate";
            };
        }

        public String expert(int layer, int expert, Part part) {
            return model + "layers." + layer + ".block_sparse_moe.experts." + expert + "." + part.name().toLowerCase();
        }

        public String weightScale(String prefix) { return prefix + ".weight_scale_inv"; }

        public String activationScale(String prefix) { return prefix + ".activation_scale"; }

        public String kvScale(int layer) { return model + "layers." + layer + ".self_attn.kv_scale"; }

        public String keyScale(int layer) { return model + "layers." + layer + ".self_attn.k_scale"; }

        public String valueScale(int layer) { return model + "layers." + layer + ".self_attn.v_scale"; }

        public boolean isSkipped(String name) {
            return name.contains("_fake_quantizer.") || SKIPPED.stream().anyMatch(name::startsWith);
        }
    }
}
