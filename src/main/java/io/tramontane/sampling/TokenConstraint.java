package io.tramontane.sampling;

/**
 * A per-sequence grammar over token ids (structured output, forced tool calls): before each draw it
 * masks the tokens that cannot continue a valid output; after each draw it advances with the chosen
 * token. Once the output is complete, only the end-of-sequence token stays allowed.
 */
public interface TokenConstraint {
    /** Sets the logits of every token not allowed in the current state to negative infinity. */
    void mask(float[] logits);

    /** Advances the state with the sampled token (always one that {@link #mask} allowed). */
    void accept(int token);

    /** True when the output so far is complete and valid. */
    boolean isComplete();
}
