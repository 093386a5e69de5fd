package io.tramontane.engine;

import io.tramontane.sampling.SamplingParams;
import io.tramontane.sampling.TokenConstraint;

/**
 * What to generate: prompt ids, sampling, the detokenizer that turns this sequence's tokens into
 * text (needed for stop strings; {@link TextStream#NONE} when only ids matter), and an optional
 * constraint on the output tokens (null for free generation).
 */
public record GenerationRequest(int[] prompt, SamplingParams sampling, TextStream text, TokenConstraint constraint) {
    public GenerationRequest {
        if (prompt.length == 0) throw new IllegalArgumentException("prompt must contain at least one token");
        prompt = prompt.clone();
    }

    public GenerationRequest(int[] prompt, SamplingParams sampling, TextStream text) {
        this(prompt, sampling, text, null);
    }
}
