package io.tramontane.sampling;

/**
 * The one definition of how a row of logits becomes a token, shared by {@link Sampler} (host logits) and every
 * backend's sampling op (cuda-kernels/sampling_core.cuh implements the same steps with the same roundings), so a
 * sequence gets the same token whichever path or backend draws it:
 * <ol>
 *   <li>greedy (temperature 0), a row whose largest logit is not finite, or one whose candidates all weigh 0 (a
 *       temperature so small that max / temperature overflows): the argmax, lowest id on ties, NaN never chosen (id 0
 *       when every logit is NaN);</li>
 *   <li>candidates: logits at or above {@code max - 30 * temperature} (float arithmetic) and not -inf, in descending
 *       logit order, ascending id on ties ({@link Sampler#candidates});</li>
 *   <li>each candidate weighs {@code round(2^43 * exp(logit / T - max / T))}, an integer ({@link #weight}): sums of
 *       integers do not depend on the order they are added in, so a parallel reduction on the device and a loop here
 *       agree exactly; the exponential is evaluated by fixed double operations (fma, rint) that IEEE 754 rounds the
 *       same everywhere;</li>
 *   <li>top-k keeps the first k candidates; min-p keeps those weighing at least {@code minP * 2^43} (the best one
 *       weighs 2^43); top-p keeps the shortest prefix whose weight reaches {@code ceil(topP * total)};</li>
 *   <li>the token is the first kept candidate whose running weight exceeds {@code floor(uniform * kept total)}.</li>
 * </ol>
 * Against exact real arithmetic (the host sampler before this class) a choice moves only when the uniform number
 * falls within about 2^-43 of a boundary between two candidates' cumulative probabilities.
 */
public final class TokenDraw {
    /** Weights are fixed-point with this many fractional bits: the best candidate weighs 2^43. */
    public static final int WEIGHT_BITS = 43;
    /** Candidates lie within this many temperature-scaled nats of the best (each further one weighs < e^-30). */
    public static final float WINDOW = 30;
    /**
     * The largest vocabulary whose total weight fits a signed 64-bit sum (2^20 tokens of at most 2^43 each).
     */
    public static final int MAX_VOCAB = 1 << 20;

    static final double INV_LN2 = 0x1.71547652b82fep0, LN2_HI = 0x1.62e42feep-1, LN2_LO = 0x1.a39ef35793c76p-33;
    /** 1/n! for n = 0..12: e^r to better than 2e-16 for |r| <= ln(2)/2. */
    static final double[] TAYLOR = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
            1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600};

    private TokenDraw() {}

    /** The token for {@code logits[from, from + vocab)}, as the class comment defines it. */
    public static int pick(float[] logits, int from, int vocab, DrawRequest draw) {
        if (vocab < 1 || vocab > MAX_VOCAB) {
            throw new IllegalArgumentException("vocabulary of " + vocab + " tokens, expected 1.." + MAX_VOCAB);
        }
        int best = argmax(logits, from, vocab);
        float max = logits[from + best];
        if (draw.temperature() == 0 || !Float.isFinite(max)) return best;
        double temperature = draw.temperature();
        float floor = max - WINDOW * (float) temperature;
        int[] order = Sampler.candidates(logits, from, vocab, floor);
        int kept = draw.topK() > 0 ? Math.min(draw.topK(), order.length) : order.length;
        long[] weights = new long[kept];
        double minWeight = draw.minP() * (double) (1L << WEIGHT_BITS);
        int n = 0;
        for (int i = 0; i < kept; i++) {
            long w = weight(logits[from + order[i]], max, temperature);
            if (draw.minP() > 0 && !(w >= minWeight)) continue;
            order[n] = order[i];
            weights[n++] = w;
        }
        long total = 0;
        for (int i = 0; i < n; i++) total += weights[i];
        if (total == 0) return best;  // max / temperature overflowed: every weight is NaN's 0
        if (draw.topP() < 1) {
            long reach = topPWeight(draw.topP(), total), mass = 0;
            int k = 0;
            while (mass < reach) mass += weights[k++];
            n = k;
            total = mass;
        }
        long target = drawTarget(draw.uniform(), total), running = 0;
        for (int i = 0; i < n; i++) {
            running += weights[i];
            if (target < running) return order[i];
        }
        throw new IllegalStateException("no candidate reached draw target " + target + " of " + total);
    }

    /** The largest non-NaN logit's id, lowest on ties; 0 when every logit is NaN. */
    static int argmax(float[] logits, int from, int vocab) {
        int best = -1;
        for (int i = 0; i < vocab; i++) {
            float v = logits[from + i];
            if (v == v && (best < 0 || v > logits[from + best])) best = i;
        }
        return Math.max(best, 0);
    }

    /** The weight every candidate prefix is measured against for top-p: {@code ceil(topP * total)} in [1, total]. */
    static long topPWeight(double topP, long total) {
        return Math.clamp((long) Math.ceil(topP * (double) total), 1, total);
    }

    /** Where the uniform number lands among {@code total}: {@code floor(uniform * total)} in [0, total - 1]. */
    static long drawTarget(double uniform, long total) {
        return Math.clamp((long) Math.floor(uniform * (double) total), 0, total - 1);
    }

    /** {@code round(2^43 * exp(logit / temperature - max / temperature))}, for logits at most {@code max}. */
    static long weight(float logit, float max, double temperature) {
        return fixedExp(logit / temperature - max / temperature);
    }

    /**
     * {@code round(2^43 * e^x)} for {@code x <= 0}; 0 below -40. e^x = 2^k e^r with k = rint(x / ln 2) and r reduced
     * by a two-part ln 2, e^r by its Taylor polynomial in Horner form: every step one correctly rounded operation.
     */
    static long fixedExp(double x) {
        if (!(x >= -40)) return 0;
        double k = Math.rint(x * INV_LN2);
        double r = Math.fma(-k, LN2_HI, x);
        r = Math.fma(-k, LN2_LO, r);
        double p = TAYLOR[TAYLOR.length - 1];
        for (int i = TAYLOR.length - 2; i >= 0; i--) p = Math.fma(p, r, TAYLOR[i]);
        double scale = Double.longBitsToDouble((long) (1023 + WEIGHT_BITS + (int) k) << 52);  // 2^(43 + k), exact
        return (long) Math.rint(p * scale);
    }
}
