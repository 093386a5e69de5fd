package io.tramontane.model;

import io.tramontane.weights.FeedForward;
import io.tramontane.weights.LayerWeights;
import io.tramontane.weights.Linear;
import io.tramontane.weights.ModelWeights;
import io.tramontane.weights.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Small models with seeded random F32 weights, built in memory (no files, no ../shared). */
public final class TestModels {
    private TestModels() {}

    public static ModelConfig dense(int dim, int layers, int heads, int kvHeads, int headDim, int hidden, int vocab) {
        return new ModelConfig("MistralForCausalLM", dim, layers, heads, kvHeads, headDim, hidden, vocab, 1e-5f, 1e6,
                null, null, null, false, null, 0);
    }

    public static ModelConfig withMoe(ModelConfig c, int experts, int topK) {
        return new ModelConfig("MixtralForCausalLM", c.dim(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.headDim(),
                c.hiddenDim(), c.vocabSize(), c.normEps(), c.ropeTheta(), c.yarn(), c.temperature(),
                new ModelConfig.Moe(experts, topK), c.tiedEmbeddings(), c.quantization(), c.maxPositions());
    }

    /** YaRN factor 16 over an original context of 8 positions and a query temperature with L = 4. */
    public static ModelConfig withYarnAndTemperature(ModelConfig c) {
        return new ModelConfig("Ministral3ForCausalLM", c.dim(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.headDim(),
                c.hiddenDim(), c.vocabSize(), c.normEps(), c.ropeTheta(),
                new ModelConfig.Yarn(16, 8, 32, 1, 1 + 0.1 * Math.log(16)),
                new ModelConfig.QueryTemperature(0.1, 4), c.moe(), c.tiedEmbeddings(), c.quantization(), c.maxPositions());
    }

    public static ModelWeights random(ModelConfig c, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "layers." + l + ".";
            FeedForward ffn;
            if (c.moe() == null) {
                ffn = mlp(p + "feed_forward.", c, random);
            } else {
                List<FeedForward.Dense> experts = new ArrayList<>();
                for (int e = 0; e < c.moe().numExperts(); e++) experts.add(mlp(p + "experts." + e + ".", c, random));
                ffn = new FeedForward.Moe(matrix(p + "gate", c.moe().numExperts(), c.dim(), 1.0, random), experts);
            }
            layers.add(new LayerWeights(gain(p + "attention_norm", c.dim(), random),
                    linear(p + "wq", c.queryWidth(), c.dim(), random), linear(p + "wk", c.kvWidth(), c.dim(), random),
                    linear(p + "wv", c.kvWidth(), c.dim(), random), linear(p + "wo", c.dim(), c.queryWidth(), random),
                    gain(p + "ffn_norm", c.dim(), random), ffn));
        }
        Tensor embeddings = matrix("tok_embeddings", c.vocabSize(), c.dim(), 1.0, random);
        Tensor output = c.tiedEmbeddings() ? embeddings : matrix("output", c.vocabSize(), c.dim(), 1.0, random);
        return new ModelWeights(c, embeddings, layers, gain("norm", c.dim(), random), output);
    }

    private static FeedForward.Dense mlp(String prefix, ModelConfig c, SplittableRandom random) {
        return new FeedForward.Dense(linear(prefix + "w1", c.hiddenDim(), c.dim(), random),
                linear(prefix + "w2", c.dim(), c.hiddenDim(), random), linear(prefix + "w3", c.hiddenDim(), c.dim(), random));
    }

    private static Linear linear(String name, int out, int in, SplittableRandom random) {
        return Linear.of(matrix(name, out, in, 1 / Math.sqrt(in), random));
    }

    static Tensor matrix(String name, int rows, int cols, double std, SplittableRandom random) {
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) values[i] = (float) (gaussian(random) * std);
        return Tensor.ofFloats(name, new long[] {rows, cols}, values);
    }

    private static Tensor gain(String name, int n, SplittableRandom random) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float) (1 + 0.1 * gaussian(random));
        return Tensor.ofFloats(name, new long[] {n}, values);
    }

    private static double gaussian(SplittableRandom random) {
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
