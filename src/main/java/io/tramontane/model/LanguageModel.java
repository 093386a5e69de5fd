package io.tramontane.model;

import io.tramontane.sampling.DrawRequest;
import java.util.List;

/**
 * A model ready to run on a backend (one rank, or a tensor-parallel group), owning its paged KV cache
 * of {@link #kvBlocks()} blocks of {@link #blockSize()} tokens; the engine decides which blocks each
 * sequence uses.
 */
public interface LanguageModel extends AutoCloseable {
    ModelConfig config();

    int kvBlocks();

    int blockSize();

    /** Runs the step and returns the logits {@code [logitRows.length][vocab]}. */
    float[][] forward(Step step);

    /**
     * Runs the step and draws one token per logit row on the backend ({@code draws[i]} for {@code logitRows[i]}):
     * only the ids reach the host.
     */
    int[] forwardAndSample(Step step, List<DrawRequest> draws);

    @Override
    void close();
}
