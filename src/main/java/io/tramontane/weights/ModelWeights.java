package io.tramontane.weights;

import io.tramontane.model.ModelConfig;
import java.util.List;

/**
 * The canonical weights of a model, whichever layout they came from: views over the mapped files.
 * {@code output} is the embedding matrix itself when embeddings are tied.
 *
 * @param tokenEmbeddings {@code [vocab, dim]}
 * @param output          {@code [vocab, dim]}
 * @param kvCacheScales   what an FP8 KV cache divides K and V by, per layer: the checkpoint's, else 1
 */
public record ModelWeights(
        ModelConfig config,
        Tensor tokenEmbeddings,
        List<LayerWeights> layers,
        Tensor finalNorm,
        Tensor output,
        KvCacheScales kvCacheScales) {

    public ModelWeights {
        layers = List.copyOf(layers);
        if (layers.size() != config.nLayers()) {
            throw new IllegalArgumentException("config has " + config.nLayers() + " layers, weights " + layers.size());
        }
        if (kvCacheScales.layers() != config.nLayers()) {
            throw new IllegalArgumentException("config has " + config.nLayers() + " layers, KV-cache scales " + kvCacheScales.layers());
        }
    }

    /** Weights without KV-cache scales (1 for every layer). */
    public ModelWeights(ModelConfig config, Tensor tokenEmbeddings, List<LayerWeights> layers, Tensor finalNorm, Tensor output) {
        this(config, tokenEmbeddings, layers, finalNorm, output, KvCacheScales.ones(config.nLayers()));
    }
}
