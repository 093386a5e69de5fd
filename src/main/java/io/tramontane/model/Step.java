package io.tramontane.model;

import io.tramontane.backend.AttentionBatch;

/**
 * One forward step: {@code tokens[t]} sits at absolute position {@code positions[t]}; the attention
 * batch says which rows belong to which sequence; logits are computed only for {@code logitRows}.
 */
public record Step(int[] tokens, int[] positions, AttentionBatch batch, int[] logitRows) {
    public Step {
        if (tokens.length != positions.length || tokens.length != batch.tokens()) {
            throw new IllegalArgumentException("step has " + tokens.length + " tokens, " + positions.length
                    + " positions and " + batch.tokens() + " batch rows");
        }
    }

    /** A single sequence's chunk {@code tokens} at positions {@code start..}, logits for the given rows. */
    public static Step ofSequence(int[] tokens, int start, int[] blockTable, int... logitRows) {
        int[] positions = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) positions[i] = start + i;
        var segment = new AttentionBatch.Segment(0, tokens.length, start, blockTable);
        return new Step(tokens, positions, new AttentionBatch(java.util.List.of(segment)), logitRows);
    }
}
