package io.tramontane.model;

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

    @Override
    void close();
}
