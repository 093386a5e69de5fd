package io.tramontane.sampling;

/**
 * The host sampler's draw as it was before {@link TokenDraw} (real-valued probabilities summed in double, top-k,
 * min-p as a prefix, top-p), kept verbatim as the reference the new definition is held to.
 */
final class LegacyDraw {
    private LegacyDraw() {}

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** The token for {@code logits} with the given filters and the stream's next uniform number {@code u}. */
    static int draw(float[] logits, double temperature, int topK, double topP, double minP, double u) {
        if (temperature == 0) return argmax(logits);
        int[] order = Sampler.candidates(logits, logits[argmax(logits)] - 30 * (float) temperature);
        int kept = topK > 0 ? Math.min(topK, order.length) : order.length;
        double max = logits[order[0]] / temperature;
        double[] p = new double[kept];
        double sum = 0;
        for (int i = 0; i < kept; i++) sum += p[i] = Math.exp(logits[order[i]] / temperature - max);
        if (minP > 0) {
            double threshold = minP * p[0];
            int k = 0;
            while (k < kept && p[k] >= threshold) k++;
            kept = k;
            sum = 0;
            for (int i = 0; i < kept; i++) sum += p[i];
        }
        if (topP < 1) {
            double mass = 0;
            int k = 0;
            while (k < kept && mass < topP * sum) mass += p[k++];
            kept = k;
            sum = mass;
        }
        double target = u * sum, acc = 0;
        for (int i = 0; i < kept; i++) {
            acc += p[i];
            if (target < acc) return order[i];
        }
        return order[kept - 1];
    }
}
