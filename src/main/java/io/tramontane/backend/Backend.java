package io.tramontane.backend;

import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.TokenDraw;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.util.List;

/**
 * The narrow set of operations the model definition runs on (ggml-style): one model, many backends.
 * Activations are FP32 {@code [tokens, features]}; weights keep their stored dtype and are decoded
 * inside the kernels. A backend instance is one tensor-parallel rank; ranks combine partial results
 * only through {@link #allReduceSum} and {@link #allGatherColumns}.
 */
public interface Backend extends AutoCloseable {

    String name();

    Activation allocate(int rows, int cols);

    /** A vector or matrix used as-is (norm gains, embeddings, router). */
    Weight weight(Tensor tensor);

    /** A linear layer with its FP8 scales (the output head too: a backend may re-encode linears at load). */
    Weight linear(Linear linear);

    KvCache allocateKvCache(int layers, int blocks, int blockSize, int kvHeads, int headDim);

    /** {@code out[t] = table[tokens[t]]}. */
    void embed(Weight table, int[] tokens, Activation out);

    /** {@code out = x / sqrt(mean(x^2) + eps) * gain}, per row, statistics in FP32. */
    void rmsNorm(Activation x, Weight gain, float eps, Activation out);

    /** {@code out[n, rows(w)] = x[n, cols(w)] w^T}. */
    void linear(Activation x, Weight w, Activation out);

    /**
     * Rotate-half RoPE in place on each {@code headDim} slice of every row: pair {@code (i, i + headDim/2)}
     * of token {@code t} is rotated by {@code cos/sin[t * headDim/2 + i]}.
     */
    void rope(Activation x, int headDim, float[] cos, float[] sin);

    /** {@code x[t] *= scale[t]} (the llama-4 query temperature). */
    void scaleRows(Activation x, float[] scale);

    /**
     * Stores {@code k, v} ({@code [tokens, kvHeads * headDim]}) of layer {@code layer} into the cache at
     * each segment's positions, then causal attention of {@code q} ({@code [tokens, heads * headDim]})
     * over everything cached so far. Query head {@code h} reads kv head {@code h / (heads / kvHeads)}.
     */
    void attention(Activation q, Activation k, Activation v, KvCache cache, int layer, AttentionBatch batch,
                   float scale, Activation out);

    /** {@code gate = silu(gate) * up}. */
    void swiglu(Activation gate, Activation up);

    /** {@code x = 0}. */
    void zero(Activation x);

    /** {@code x += y}. */
    void add(Activation x, Activation y);

    /** {@code dst[i] = src[rows[i]]} for the first {@code rows.length} rows of dst. */
    void gatherRows(Activation src, int[] rows, Activation dst);

    /** {@code dst[rows[i]] += weights[i] * src[i]}. */
    void scatterAddRows(Activation src, int[] rows, float[] weights, Activation dst);

    /** Sums {@code x} over all ranks, leaving the result on every rank. */
    void allReduceSum(Activation x);

    /** Concatenates every rank's columns of {@code part} in rank order into {@code whole}. */
    void allGatherColumns(Activation part, Activation whole);

    /** Copies row {@code row} of x to the host. */
    void readRow(Activation x, int row, float[] dst);

    /**
     * One token per row of {@code logits} ({@code [draws.size(), vocab]}), each drawn by {@link TokenDraw} with its
     * row's request: the same ids on every backend. Only the ids come back to the host.
     */
    int[] sample(Activation logits, List<DrawRequest> draws);

    @Override
    void close();
}
