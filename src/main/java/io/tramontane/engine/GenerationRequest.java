package io.tramontane.engine;

import io.tramontane.sampling.SamplingParams;

/**
 * What to generate: prompt ids, sampling, and the detokenizer that turns this sequence's tokens into
 * text (needed for stop strings; {@link TextStream#NONE} when only ids matter).
 */
public record GenerationRequest(int[] prompt, SamplingParams sampling, TextStream text) {
    public GenerationRequest {
        if (prompt.length == 0) throw new IllegalArgumentException("prompt must contain at least one token");
        prompt = prompt.clone();
    }
}
