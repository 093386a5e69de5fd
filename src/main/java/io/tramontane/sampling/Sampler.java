package io.tramontane.sampling;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Turns one sequence's logits into its next token: penalties, then greedy or temperature sampling with
 * top-k / top-p / min-p, from a per-sequence random stream so a seed reproduces a request exactly.
 * Not thread-safe: one sampler per sequence.
 */
public final class Sampler {

    /** A sampled token, its log-probability and (when asked) the top alternatives, all from the raw logits. */
    public record Sample(int token, float logprob, int[] topTokens, float[] topLogprobs) {}

    private final SamplingParams params;
    private final SplittableRandom random;
    private final Map<Integer, Integer> outputCounts = new HashMap<>();
    private final java.util.Set<Integer> seen = new java.util.HashSet<>();
    private final int eosId;
    private int generated;

    private final TokenConstraint constraint;

    public Sampler(SamplingParams params, int[] prompt, int eosId) {
        this(params, prompt, eosId, null);
    }

    /** {@code constraint} (nullable) masks the logits before every draw and follows every sampled token. */
    public Sampler(SamplingParams params, int[] prompt, int eosId, TokenConstraint constraint) {
        this.params = params;
        this.constraint = constraint;
        this.random = new SplittableRandom(params.seed() != null ? params.seed() : new SplittableRandom().nextLong());
        this.eosId = eosId;
        for (int t : prompt) seen.add(t);
    }

    /** Samples the next token from {@code logits} (modified in place) and records it for the penalties. */
    public Sample next(float[] logits) {
        float[] raw = params.topLogprobs() >= 0 ? logits.clone() : null;
        applyPenalties(logits);
        if (constraint != null) constraint.mask(logits);
        if (generated < params.minTokens() && (constraint == null || !constraint.isComplete())) {
            if (eosId >= 0 && eosId < logits.length) logits[eosId] = Float.NEGATIVE_INFINITY;
            for (int stop : params.stopTokenIds()) if (stop >= 0 && stop < logits.length) logits[stop] = Float.NEGATIVE_INFINITY;
        }
        int token = params.temperature() == 0 ? argmax(logits) : draw(logits);
        if (constraint != null) constraint.accept(token);
        generated++;
        outputCounts.merge(token, 1, Integer::sum);
        seen.add(token);
        return raw == null ? new Sample(token, Float.NaN, null, null) : withLogprobs(token, raw);
    }

    private void applyPenalties(float[] logits) {
        if (params.repetitionPenalty() != 1) {
            float rp = (float) params.repetitionPenalty();
            for (int t : seen) logits[t] = logits[t] > 0 ? logits[t] / rp : logits[t] * rp;
        }
        if (params.presencePenalty() != 0 || params.frequencyPenalty() != 0) {
            for (var e : outputCounts.entrySet()) {
                logits[e.getKey()] -= (float) (params.frequencyPenalty() * e.getValue() + params.presencePenalty());
            }
        }
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Temperature, then top-k, min-p and top-p over the sorted candidates, then one draw. */
    private int draw(float[] logits) {
        // tokens more than 30 nats below the best cannot matter (each weighs < e^-30 of it): skip sorting them
        int[] order = candidates(logits, logits[argmax(logits)] - 30 * (float) params.temperature());
        int kept = params.topK() > 0 ? Math.min(params.topK(), order.length) : order.length;
        double max = logits[order[0]] / params.temperature();
        double[] p = new double[kept];
        double sum = 0;
        for (int i = 0; i < kept; i++) sum += p[i] = Math.exp(logits[order[i]] / params.temperature() - max);
        if (params.minP() > 0) {
            double threshold = params.minP() * p[0];
            int k = 0;
            while (k < kept && p[k] >= threshold) k++;
            kept = k;
            sum = 0;
            for (int i = 0; i < kept; i++) sum += p[i];
        }
        if (params.topP() < 1) {
            double mass = 0;
            int k = 0;
            while (k < kept && mass < params.topP() * sum) mass += p[k++];  // the smallest prefix reaching top_p
            kept = k;
            sum = mass;
        }
        double u = random.nextDouble() * sum, acc = 0;
        for (int i = 0; i < kept; i++) {
            acc += p[i];
            if (u < acc) return order[i];
        }
        return order[kept - 1];
    }

    /**
     * Token ids with a finite logit at or above {@code floor}, by descending logit (ascending id on ties):
     * a primitive sort of (logit, id) packed into longs, no boxing over a 131k vocabulary.
     */
    static int[] candidates(float[] logits, float floor) {
        long[] keys = new long[logits.length];
        int n = 0;
        for (int i = 0; i < logits.length; i++) {
            float v = logits[i];
            if (v == Float.NEGATIVE_INFINITY || !(v >= floor)) continue;
            int bits = Float.floatToIntBits(v + 0f);  // + 0f: -0 ties with +0, as the values are equal
            int ascending = bits >= 0 ? bits : bits ^ 0x7FFFFFFF;  // int order equals float order
            keys[n++] = ((long) ~ascending << 32) | i;             // ~: descending logit, then ascending id
        }
        Arrays.sort(keys, 0, n);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = (int) keys[i];
        return order;
    }

    private Sample withLogprobs(int token, float[] raw) {
        double max = raw[argmax(raw)], sum = 0;
        for (float v : raw) sum += Math.exp(v - max);
        float logZ = (float) (max + Math.log(sum));
        int k = params.topLogprobs();
        int[] top = new int[k];
        float[] topLp = new float[k];
        int[] order = candidates(raw, (float) max - 30);
        if (order.length < k) order = candidates(raw, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < k && i < order.length; i++) {
            top[i] = order[i];
            topLp[i] = raw[order[i]] - logZ;
        }
        return new Sample(token, raw[token] - logZ, top, topLp);
    }
}
