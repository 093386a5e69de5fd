package io.tramontane.sampling;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Turns one sequence's logits into its next token: penalties and masks, then {@link TokenDraw} (greedy or
 * temperature sampling with top-k / min-p / top-p) with a uniform number from a per-sequence random stream, so a
 * seed reproduces a request exactly. Sequences that need no host logits ({@link #needsLogits()}) hand the same
 * draw to a backend instead ({@link #nextDraw()}, then {@link #accept}).
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

    /**
     * True when the next token needs this sequence's logits on the host: penalties, a constraint mask, the
     * min_tokens mask or logprobs. Otherwise {@link #nextDraw} and {@link #accept} let a backend draw on the device.
     */
    public boolean needsLogits() {
        return params.topLogprobs() >= 0 || params.repetitionPenalty() != 1 || params.presencePenalty() != 0
                || params.frequencyPenalty() != 0 || constraint != null || generated < params.minTokens();
    }

    /**
     * The next draw's filters with its uniform number: one value from this sequence's random stream per sampled
     * (temperature > 0) token, none for greedy ones, whichever path then draws.
     */
    public DrawRequest nextDraw() {
        double uniform = params.temperature() > 0 ? random.nextDouble() : 0;
        return new DrawRequest(params.temperature(), params.topK(), params.topP(), params.minP(), uniform);
    }

    /** Records {@code token}, drawn on a backend from {@link #nextDraw()}, for the penalties and the constraint. */
    public Sample accept(int token) {
        record(token);
        return new Sample(token, Float.NaN, null, null);
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
        int token = TokenDraw.pick(logits, 0, logits.length, nextDraw());
        record(token);
        return raw == null ? new Sample(token, Float.NaN, null, null) : withLogprobs(token, raw);
    }

    private void record(int token) {
        if (constraint != null) constraint.accept(token);
        generated++;
        outputCounts.merge(token, 1, Integer::sum);
        seen.add(token);
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

    /**
     * Token ids with a finite logit at or above {@code floor}, by descending logit (ascending id on ties):
     * a primitive sort of (logit, id) packed into longs, no boxing over a 131k vocabulary.
     */
    static int[] candidates(float[] logits, float floor) {
        return candidates(logits, 0, logits.length, floor);
    }

    /** {@link #candidates(float[], float)} of {@code logits[from, from + vocab)}, ids relative to {@code from}. */
    static int[] candidates(float[] logits, int from, int vocab, float floor) {
        long[] keys = new long[vocab];
        int n = 0;
        for (int i = 0; i < vocab; i++) {
            float v = logits[from + i];
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
        double max = raw[TokenDraw.argmax(raw, 0, raw.length)], sum = 0;
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
