package io.tramontane.backend.cpu;

import io.tramontane.backend.ExpertRoutes;

/**
 * Mixtral top-k routing on the host (MODELS.md 5.9), the semantics every backend follows. For routed row
 * {@code slot = t * topK + j} (token t's j-th choice, largest logit first): {@code expert[slot]} and
 * {@code weight[slot]}, the softmax over the k selected logits, computed in double and rounded to float. Sorted order:
 * {@code order[i]} is the slot at sorted position i, by expert then token; {@code position} is its inverse; expert e's
 * rows are {@code [offsets[e], offsets[e + 1])}.
 */
public record CpuExpertRoutes(int tokens, int topK, int experts, int[] expert, float[] weight, int[] order, int[] position,
                       int[] offsets) implements ExpertRoutes {

    /** Routes each row of {@code logits} ({@code [tokens, experts]}, row-major). */
    static CpuExpertRoutes route(float[] logits, int tokens, int experts, int topK) {
        if (topK < 1 || topK > experts) throw new IllegalArgumentException("top-k " + topK + " of " + experts + " experts");
        int rows = Math.multiplyExact(tokens, topK);
        int[] expert = new int[rows], counts = new int[experts], chosen = new int[topK];
        float[] weight = new float[rows], row = new float[experts];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(logits, t * experts, row, 0, experts);
            selectTopK(row, chosen);
            double max = row[chosen[0]], sum = 0;
            for (int e : chosen) sum += Math.exp(row[e] - max);
            for (int j = 0; j < topK; j++) {
                int e = chosen[j];
                expert[t * topK + j] = e;
                weight[t * topK + j] = (float) (Math.exp(row[e] - max) / sum);
                counts[e]++;
            }
        }
        int[] offsets = new int[experts + 1];
        for (int e = 0; e < experts; e++) offsets[e + 1] = offsets[e] + counts[e];
        int[] next = offsets.clone(), order = new int[rows], position = new int[rows];
        for (int slot = 0; slot < rows; slot++) {  // slots ascend by token: a stable counting sort by expert
            int i = next[expert[slot]]++;
            order[i] = slot;
            position[slot] = i;
        }
        return new CpuExpertRoutes(tokens, topK, experts, expert, weight, order, position, offsets);
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

    /** The token of sorted routed row {@code i}. */
    int token(int i) {
        return order[i] / topK;
    }

    static CpuExpertRoutes of(ExpertRoutes routes) {
        if (routes instanceof CpuExpertRoutes cpu) return cpu;
        throw new IllegalArgumentException("not CPU expert routes: " + routes);
    }
}
