package io.tramontane.backend;

import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.TokenDraw;
import io.tramontane.weights.KvCacheScales;
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

    /** {@link #allocateKvCache} with the checkpoint's FP8 KV-cache scales, for a backend that stores e4m3 K/V. */
    default KvCache allocateKvCache(int layers, int blocks, int blockSize, int kvHeads, int headDim, KvCacheScales scales) {
        return allocateKvCache(layers, blocks, blockSize, kvHeads, headDim);
    }

    /** {@code out[t] = table[tokens[t]]}. */
    void embed(Weight table, int[] tokens, Activation out);

    /** {@code out = x / sqrt(mean(x^2) + eps) * gain}, per row, statistics in FP32. */
    void rmsNorm(Activation x, Weight gain, float eps, Activation out);

    /** {@code out[n, rows(w)] = x[n, cols(w)] w^T}. */
    void linear(Activation x, Weight w, Activation out);

    /**
     * {@code outs[i] = x weights[i]^T} for linears that share their input (q, k and v; gate and up): each output as
     * {@link #linear} computes it, except that a backend serving them together may sum in an order chosen for the group
     * (the GPU's decode gemv splits rows over warps by the group's rows; the CPU serves them one by one).
     */
    default void linears(Activation x, Weight[] weights, Activation[] outs) {
        if (weights.length != outs.length) {
            throw new IllegalArgumentException(weights.length + " weights for " + outs.length + " outputs");
        }
        for (int i = 0; i < weights.length; i++) linear(x, weights[i], outs[i]);
    }

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

    // ---- Mixture of experts (Mixtral routing, MODELS.md 5.9), with no host synchronisation on a device:
    // logits = router(x); routes = routeExperts(logits, k); xs = gatherRouted(x, routes);
    // ys = expertLinear(xs, w, routes) per projection; out = combineRouted(ys, routes).
    // A routed row is one (token, slot) pair; the n * k routed rows are sorted by expert, then by token.

    /** One projection (w1, w2 or w3) of every expert of a layer, in expert order, resident for {@link #expertLinear}. */
    Weight experts(List<Linear> projections);

    /**
     * Per token ({@code routerLogits} is {@code [tokens, experts]}): the {@code topK} largest logits (ties to the lower
     * expert index), weights = softmax over those k (in double precision, rounded to float), and the routed rows'
     * order by (expert, token). Logits must be finite.
     */
    ExpertRoutes routeExperts(Activation routerLogits, int topK);

    /** {@code xSorted[i] = x[token of routed row i]}; xSorted is {@code [routes.rows(), x.cols]}. */
    void gatherRouted(Activation x, ExpertRoutes routes, Activation xSorted);

    /** Grouped linear: {@code out[i] = xSorted[i] experts[expert of routed row i]^T}, each as {@link #linear} computes it. */
    void expertLinear(Activation xSorted, Weight experts, ExpertRoutes routes, Activation out);

    /**
     * Weighted un-permute: {@code out[t] = sum over t's k routed rows i, in ascending expert order, of weight(i) * ySorted[i]}
     * (starting from 0; out is {@code [routes.tokens(), ySorted.cols]}).
     */
    void combineRouted(Activation ySorted, ExpertRoutes routes, Activation out);

    /** Sums {@code x} over all ranks, leaving the result on every rank. */
    void allReduceSum(Activation x);

    /** Concatenates every rank's columns of {@code part} in rank order into {@code whole}. */
    void allGatherColumns(Activation part, Activation whole);

    /**
     * The step's ops are all enqueued: start whatever the backend holds back (a CUDA graph being captured). Called
     * at the end of every forward, so a rank that reads nothing back (tensor parallelism) still runs its step.
     */
    void submit();

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
