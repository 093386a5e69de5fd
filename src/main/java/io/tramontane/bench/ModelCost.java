package io.tramontane.bench;

import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.model.ModelConfig;
import io.tramontane.weights.FeedForward;
import io.tramontane.weights.LayerWeights;
import io.tramontane.weights.Linear;
import io.tramontane.weights.ModelWeights;
import io.tramontane.weights.Tensor;

/**
 * What a forward step must move and compute, from the weights as stored (any dtype, synthetic or
 * checkpoint) or with the linears quantized at load ({@code --cpu-weights}). Decode is judged by bytes: every weight is read once per step, however many sequences
 * share it. Prefill is judged by flops: two per weight per token, plus attention.
 *
 * @param layerBytes     norms and linears of all blocks (MoE: router and every expert)
 * @param expertBytes    one expert's three linears, summed over layers (0 for dense models)
 * @param headBytes      final norm and output head
 * @param layerParams    weights of all blocks a token multiplies with (MoE: router and top-k experts)
 * @param headParams     output head weights (multiplied only for the rows whose logits are wanted)
 * @param embeddingBytes one row of the embedding table (each token reads its own)
 */
public record ModelCost(long layerBytes, long expertBytes, long headBytes, long layerParams, long headParams,
                        long embeddingBytes, ModelConfig config) {

    /** The weights as stored. */
    public static ModelCost of(ModelWeights w) {
        return of(w, CpuWeights.STORED);
    }

    /**
     * With every linear, output head included, held as {@code linears} says: its stored bytes, or its quantized
     * blocks with their scales (and zero padding). Norms, embeddings and the MoE router count as stored.
     */
    public static ModelCost of(ModelWeights w, CpuWeights linears) {
        ModelConfig c = w.config();
        long layerBytes = 0, expertBytes = 0, layerParams = 0;
        for (LayerWeights l : w.layers()) {
            layerBytes += bytes(l.attentionNorm()) + bytes(l.ffnNorm());
            for (Linear attention : new Linear[] {l.wq(), l.wk(), l.wv(), l.wo()}) {
                layerBytes += bytes(attention.weight(), linears);
                layerParams += attention.weight().elementCount();
            }
            switch (l.ffn()) {
                case FeedForward.Dense d -> {
                    layerBytes += bytes(d, linears);
                    layerParams += params(d);
                }
                case FeedForward.Moe moe -> {
                    layerBytes += bytes(moe.router());
                    layerParams += moe.router().elementCount() + c.moe().topK() * params(moe.experts().getFirst());
                    for (FeedForward.Dense expert : moe.experts()) layerBytes += bytes(expert, linears);
                    expertBytes += bytes(moe.experts().getFirst(), linears);
                }
            }
        }
        Tensor table = w.tokenEmbeddings();
        return new ModelCost(layerBytes, expertBytes, bytes(w.finalNorm()) + bytes(w.output(), linears), layerParams,
                w.output().elementCount(), table.cols() * table.dtype().bits() / 8, c);
    }

    /**
     * Weight bytes one decode step of {@code batch} sequences reads. For MoE models only the experts the
     * batch can route to are counted ({@code min(experts, batch * topK)} per layer): exact for one
     * sequence, an upper bound for more.
     */
    public long decodeBytesPerStep(int batch) {
        long layers = layerBytes;
        if (config.moe() != null) {
            int unused = Math.max(0, config.moe().numExperts() - batch * config.moe().topK());
            layers -= unused * expertBytes;
        }
        return layers + headBytes + batch * embeddingBytes;
    }

    /** Parameters a token is multiplied with (output head included), the usual "active parameters". */
    public long activeParams() {
        return layerParams + headParams;
    }

    /**
     * Flops of a prefill of {@code tokens} tokens per sequence from position 0, for {@code sequences}
     * sequences, with logits for each sequence's last token: {@code 2 x params} per token and, per layer
     * and query head, {@code 4 x headDim} per attended position (QK^T and PV) over the causal triangle.
     */
    public double prefillFlops(int tokens, int sequences) {
        double linear = 2.0 * layerParams * tokens + 2.0 * headParams;
        double attendedPositions = (double) tokens * (tokens + 1) / 2;
        double attention = 4.0 * config.nLayers() * config.nHeads() * config.headDim() * attendedPositions;
        return sequences * (linear + attention);
    }

    private static long bytes(FeedForward.Dense d, CpuWeights linears) {
        return bytes(d.w1().weight(), linears) + bytes(d.w2().weight(), linears) + bytes(d.w3().weight(), linears);
    }

    private static long bytes(Tensor linear, CpuWeights linears) {
        return linears.quantized() ? linears.bytes(linear.rows(), linear.cols()) : bytes(linear);
    }

    private static long params(FeedForward.Dense d) {
        return d.w1().weight().elementCount() + d.w2().weight().elementCount() + d.w3().weight().elementCount();
    }

    private static long bytes(Tensor t) {
        return t.elementCount() * t.dtype().bits() / 8;
    }
}
