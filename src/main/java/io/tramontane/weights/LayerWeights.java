package io.tramontane.weights;

/**
 * One transformer block. The rows of {@code wq} and {@code wk} are in the canonical rotate-half order
 * (HF layout: the RoPE pair {@code i} of a head is rows {@code i} and {@code i + head_dim/2}); native
 * checkpoints are presented through a row-permuted view, so the forward pass has a single RoPE rule.
 */
public record LayerWeights(
        Tensor attentionNorm,
        Linear wq,
        Linear wk,
        Linear wv,
        Linear wo,
        Tensor ffnNorm,
        FeedForward ffn) {}
