package io.tramontane.weights;

import io.tramontane.model.ModelConfig;
import java.util.List;

/**
 * The canonical weights of a model, whichever layout they came from: views over the mapped files.
 * {@code output} is the embedding matrix itself when embeddings are tied.
 *
 * @param tokenEmbeddings {@code [vocab, dim]}
 * @param output          {@code [vocab, dim]}
 */
public record ModelWeights(
        ModelConfig config,
        Tensor tokenEmbeddings,
        List<LayerWeights> layers,
        Tensor finalNorm,
        Tensor output) {

    public ModelWeights {
        layers = List.copyOf(layers);
        if (layers.size() != config.nLayers()) {
            throw new IllegalArgumentException("config has " + config.nLayers() + " layers, weights " + layers.size());
        }
    }
}
