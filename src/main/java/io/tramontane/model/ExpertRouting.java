package io.tramontane.model;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Backend;
import java.util.Arrays;

/**
 * Mixtral top-k routing of a batch: for each expert, the batch rows routed to it and their weights.
 * Weights are the softmax over the k selected router logits (equal to softmax over all experts,
 * renormalized over the selection); ties go to the lower expert index.
 */
final class ExpertRouting {
    private final int[][] tokens;
    private final float[][] weights;

    private ExpertRouting(int[][] tokens, float[][] weights) {
        this.tokens = tokens;
        this.weights = weights;
    }

    static ExpertRouting route(Backend backend, Activation routerLogits, int topK) {
        int n = routerLogits.rows(), experts = routerLogits.cols();
        int[][] tokens = new int[experts][n];
        float[][] weights = new float[experts][n];
        int[] counts = new int[experts];
        float[] logits = new float[experts];
        int[] chosen = new int[topK];
        for (int t = 0; t < n; t++) {
            backend.readRow(routerLogits, t, logits);
            selectTopK(logits, chosen);
            double max = logits[chosen[0]], sum = 0;
            for (int e : chosen) sum += Math.exp(logits[e] - max);
            for (int e : chosen) {
                tokens[e][counts[e]] = t;
                weights[e][counts[e]++] = (float) (Math.exp(logits[e] - max) / sum);
            }
        }
        for (int e = 0; e < experts; e++) {
            tokens[e] = Arrays.copyOf(tokens[e], counts[e]);
            weights[e] = Arrays.copyOf(weights[e], counts[e]);
        }
        return new ExpertRouting(tokens, weights);
    }

    /** Indices of the k largest values, largest first; on equal values the lower index wins. */
    static void selectTopK(float[] values, int[] chosen) {
        boolean[] taken = new boolean[values.length];
        for (int k = 0; k < chosen.length; k++) {
            int best = -1;
            for (int e = 0; e < values.length; e++) {
                if (!taken[e] && (best < 0 || values[e] > values[best])) best = e;
            }
            taken[best] = true;
            chosen[k] = best;
        }
    }

    int[] tokens(int expert) {
        return tokens[expert];
    }

    float[] weights(int expert) {
        return weights[expert];
    }
}
