package io.tramontane.model;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Backend;
import io.tramontane.backend.ExpertRoutes;
import io.tramontane.backend.KvCache;
import io.tramontane.backend.Weight;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.weights.FeedForward;
import io.tramontane.weights.LayerWeights;
import io.tramontane.weights.Linear;
import io.tramontane.weights.ModelWeights;
import java.util.ArrayList;
import java.util.List;

/**
 * The Mistral-family decoder on one backend rank: pre-norm blocks of GQA attention (RoPE, YaRN,
 * llama-4 query temperature) and a SwiGLU or Mixtral-style MoE FFN. This class is the whole forward
 * pass; the backend only supplies the ops. The model owns its backend and KV cache.
 */
public final class Model implements LanguageModel {

    /** {@code qkv}: wq, wk and wv, which share their input ({@link Backend#linears}). */
    private record Layer(Weight attentionNorm, Weight[] qkv, Weight wo, Weight ffnNorm, Mlp mlp, Weight router, Mlp experts) {}

    /** A SwiGLU MLP; in an MoE layer each weight holds that projection of every expert ({@link Backend#experts}). */
    private record Mlp(Weight w1, Weight w2, Weight w3, Weight[] gateUp) {
        /** {@code gateUp}: w1 and w3, which share their input ({@link Backend#linears}). */
        Mlp(Weight w1, Weight w2, Weight w3) {
            this(w1, w2, w3, new Weight[] {w1, w3});
        }
    }

    private final ModelConfig config;
    private final Backend backend;
    private final Shard shard;
    private final Rope rope;
    private final Weight embeddings, finalNorm, output;
    private final List<Layer> layers = new ArrayList<>();
    private final KvCache cache;
    private final int blockSize;
    private final Workspace workspace;

    public Model(ModelWeights weights, Backend backend, Shard shard, int kvBlocks, int blockSize) {
        this.config = weights.config();
        this.backend = backend;
        this.shard = shard;
        this.rope = new Rope(config);
        this.embeddings = backend.weight(weights.tokenEmbeddings());
        this.finalNorm = backend.weight(weights.finalNorm());
        this.output = backend.linear(Linear.of(weights.output()).rowRange(shard.firstVocab(), shard.firstVocab() + shard.vocab()));
        int d = config.headDim();
        for (LayerWeights l : weights.layers()) {
            int q0 = shard.firstHead() * d, q1 = q0 + shard.heads() * d;
            int kv0 = shard.firstKvHead() * d, kv1 = kv0 + shard.kvHeads() * d;
            Mlp mlp = null;
            Weight router = null;
            Mlp experts = null;
            switch (l.ffn()) {
                case FeedForward.Dense dense -> mlp = mlpShard(dense);
                case FeedForward.Moe moe -> {
                    router = backend.weight(moe.router());
                    experts = expertsShard(moe.experts());
                }
            }
            Weight[] qkv = {backend.linear(l.wq().rowRange(q0, q1)), backend.linear(l.wk().rowRange(kv0, kv1)),
                    backend.linear(l.wv().rowRange(kv0, kv1))};
            layers.add(new Layer(backend.weight(l.attentionNorm()), qkv, backend.linear(l.wo().columnRange(q0, q1)),
                    backend.weight(l.ffnNorm()), mlp, router, experts));
        }
        this.blockSize = blockSize;
        this.workspace = new Workspace(backend);
        this.cache = backend.allocateKvCache(config.nLayers(), kvBlocks, blockSize, shard.kvHeads(), d, weights.kvCacheScales());
    }

    private Mlp mlpShard(FeedForward.Dense dense) {
        FeedForward.Dense w = hiddenShard(dense);
        return new Mlp(backend.linear(w.w1()), backend.linear(w.w2()), backend.linear(w.w3()));
    }

    /** Every expert's w1, w2 and w3 over this rank's hidden units, packed per projection. */
    private Mlp expertsShard(List<FeedForward.Dense> experts) {
        List<FeedForward.Dense> shards = experts.stream().map(this::hiddenShard).toList();
        return new Mlp(backend.experts(shards.stream().map(FeedForward.Dense::w1).toList()),
                backend.experts(shards.stream().map(FeedForward.Dense::w2).toList()),
                backend.experts(shards.stream().map(FeedForward.Dense::w3).toList()));
    }

    /** A SwiGLU MLP's linears restricted to this rank's hidden units. */
    private FeedForward.Dense hiddenShard(FeedForward.Dense dense) {
        long h0 = shard.firstHidden(), h1 = h0 + shard.hidden();
        return new FeedForward.Dense(dense.w1().rowRange(h0, h1), dense.w2().columnRange(h0, h1), dense.w3().rowRange(h0, h1));
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public int kvBlocks() {
        return cache.blocks();
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public float[][] forward(Step step) {
        Activation logits = logits(step);
        float[][] rows = new float[logits.rows()][config.vocabSize()];
        for (int r = 0; r < rows.length; r++) backend.readRow(logits, r, rows[r]);
        return rows;
    }

    @Override
    public int[] forwardAndSample(Step step, List<DrawRequest> draws) {
        if (draws.size() != step.logitRows().length) {
            throw new IllegalArgumentException(draws.size() + " draws for " + step.logitRows().length + " logit rows");
        }
        return backend.sample(logits(step), draws);
    }

    /**
     * The forward pass: the logits {@code [logitRows.length, vocab]} of the step, left on the backend (under tensor
     * parallelism every rank ends with all columns).
     */
    Activation logits(Step step) {
        int n = step.tokens().length, d = config.headDim();
        Activation x = workspace.get(Workspace.Slot.X, n, config.dim());
        backend.embed(embeddings, step.tokens(), x);

        float[] cos = new float[n * rope.halfDim()], sin = new float[n * rope.halfDim()];
        rope.angles(step.positions(), cos, sin);
        float[] temperature = queryTemperature(step.positions());
        float attentionScale = (float) (1 / Math.sqrt(d));

        Activation normed = workspace.get(Workspace.Slot.NORMED, n, config.dim());
        Activation residual = workspace.get(Workspace.Slot.RESIDUAL, n, config.dim());
        Activation q = workspace.get(Workspace.Slot.Q, n, shard.heads() * d);
        Activation attended = workspace.get(Workspace.Slot.ATTENDED, n, shard.heads() * d);
        Activation k = workspace.get(Workspace.Slot.K, n, shard.kvHeads() * d);
        Activation v = workspace.get(Workspace.Slot.V, n, shard.kvHeads() * d);
        Activation[] qkvOut = {q, k, v};
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            // h = x + Attention(RMSNorm(x))
            backend.rmsNorm(x, layer.attentionNorm(), config.normEps(), normed);
            backend.linears(normed, layer.qkv(), qkvOut);
            backend.rope(q, d, cos, sin);
            backend.rope(k, d, cos, sin);
            if (temperature != null) backend.scaleRows(q, temperature);
            backend.attention(q, k, v, cache, i, step.batch(), attentionScale, attended);
            backend.linear(attended, layer.wo(), residual);
            reduce(residual);
            backend.add(x, residual);
            // out = h + FFN(RMSNorm(h))
            backend.rmsNorm(x, layer.ffnNorm(), config.normEps(), normed);
            if (layer.mlp() != null) {
                int hidden = (int) layer.mlp().w1().rows();
                mlp(layer.mlp(), normed, workspace.get(Workspace.Slot.GATE, n, hidden),
                        workspace.get(Workspace.Slot.UP, n, hidden), residual);
            }
            else mixtureOfExperts(layer, normed, residual);
            reduce(residual);
            backend.add(x, residual);
        }
        Activation logits = outputHead(x, step.logitRows());
        backend.submit();  // every op of the step is enqueued: a rank that reads nothing back must still run it
        return logits;
    }

    /** llama-4 temperature per token, or null when the model has none. */
    private float[] queryTemperature(int[] positions) {
        if (config.temperature() == null) return null;
        float[] scale = new float[positions.length];
        for (int t = 0; t < positions.length; t++) scale[t] = config.temperature().at(positions[t]);
        return scale;
    }

    /** {@code out = w2(silu(w1 x) * w3 x)} over this rank's hidden units (a partial sum under TP). */
    private void mlp(Mlp mlp, Activation x, Activation gate, Activation up, Activation out) {
        backend.linears(x, mlp.gateUp(), new Activation[] {gate, up});
        backend.swiglu(gate, up);
        backend.linear(gate, mlp.w2(), out);
    }

    /**
     * Mixtral routing (MODELS.md 5.9): top-k router logits, softmax over the k, weighted expert sum. The n * k routed
     * (token, expert) rows are sorted by expert so each expert's rows go through its weights as one block (grouped GEMM).
     */
    private void mixtureOfExperts(Layer layer, Activation x, Activation out) {
        int n = x.rows(), topK = config.moe().topK(), hidden = (int) layer.experts().w1().rows();
        Activation routerLogits = backend.allocate(n, (int) layer.router().rows());
        backend.linear(x, layer.router(), routerLogits);
        ExpertRoutes routes = backend.routeExperts(routerLogits, topK);
        Activation xSorted = backend.allocate(n * topK, config.dim());   // [n * k, dim], grouped by expert
        backend.gatherRouted(x, routes, xSorted);
        Activation gate = backend.allocate(n * topK, hidden), up = backend.allocate(n * topK, hidden);
        backend.expertLinear(xSorted, layer.experts().w1(), routes, gate);
        backend.expertLinear(xSorted, layer.experts().w3(), routes, up);
        backend.swiglu(gate, up);
        Activation ySorted = backend.allocate(n * topK, config.dim());
        backend.expertLinear(gate, layer.experts().w2(), routes, ySorted);
        backend.combineRouted(ySorted, routes, out);
    }

    private void reduce(Activation partial) {
        if (shard.ranks() > 1) backend.allReduceSum(partial);
    }

    /** Final norm and output projection of the given rows of x; all-gathered over the vocabulary under TP. */
    private Activation outputHead(Activation x, int[] rows) {
        Activation last = workspace.get(Workspace.Slot.LAST, rows.length, config.dim());
        Activation normed = workspace.get(Workspace.Slot.LAST_NORMED, rows.length, config.dim());
        backend.gatherRows(x, rows, last);
        backend.rmsNorm(last, finalNorm, config.normEps(), normed);
        Activation part = workspace.get(Workspace.Slot.LOGITS, rows.length, shard.vocab());
        backend.linear(normed, output, part);
        Activation whole = part;
        if (shard.ranks() > 1) {
            whole = workspace.get(Workspace.Slot.ALL_LOGITS, rows.length, config.vocabSize());
            backend.allGatherColumns(part, whole);
        }
        return whole;
    }

    /** Releases the KV cache and the backend, which this model owns. */
    @Override
    public void close() {
        cache.close();
        backend.close();
    }
}
