package io.tramontane.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenDrawTest {
    private static final double[] TEMPERATURES = {0, 0.05, 0.7, 1, 1.5};
    private static final int[] TOP_K = {0, 1, 2, 50, 1000};
    private static final double[] TOP_P = {1, 0.9, 0.5, 0.1, 1e-9};
    private static final double[] MIN_P = {0, 0.05, 0.5};

    /** Logits like a model's: mostly small, a few large, some exact ties, some -inf (masked). */
    static float[] logits(SplittableRandom random, int vocab) {
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            double roll = random.nextDouble();
            logits[i] = roll < 0.02 ? (float) random.nextDouble(5, 15)
                    : roll < 0.04 && i > 0 ? logits[random.nextInt(i)]  // an exact tie with an earlier token
                    : roll < 0.05 ? Float.NEGATIVE_INFINITY
                    : (float) random.nextGaussian(0, 2);
        }
        return logits;
    }

    private static int pick(float[] logits, DrawRequest draw) {
        return TokenDraw.pick(logits, 0, logits.length, draw);
    }

    @Test
    void equalsTheLegacyHostDrawOnTheSameUniformNumbers() {
        SplittableRandom random = new SplittableRandom(20261125);
        int draws = 0;
        for (int vocab : new int[] {1, 2, 7, 100, 4099}) {
            for (int trial = 0; trial < 6; trial++) {
                float[] logits = logits(random, vocab);
                if (Float.isInfinite(logits[LegacyDraw.argmax(logits)])) continue;  // legacy failed on fully masked rows
                for (double t : TEMPERATURES) {
                    for (int k : TOP_K) {
                        for (double p : TOP_P) {
                            for (double minP : MIN_P) {
                                double u = random.nextDouble();
                                int expected = LegacyDraw.draw(logits, t, k, p, minP, u);
                                assertThat(pick(logits, new DrawRequest(t, k, p, minP, u)))
                                        .as("vocab %d t %s k %d p %s min_p %s u %s", vocab, t, k, p, minP, u)
                                        .isEqualTo(expected);
                                draws++;
                            }
                        }
                    }
                }
            }
        }
        assertThat(draws).isGreaterThan(4 * 6 * TEMPERATURES.length * TOP_K.length * TOP_P.length * MIN_P.length);
    }

    @Test
    void aSeededSamplerGivesTheSameTokensOnTheHostAndThroughItsDeviceDraws() {
        var params = SamplingParams.greedy(64).withTemperature(0.8).withFilters(40, 0.95, 0.02).withSeed(7L);
        float[] logits = logits(new SplittableRandom(3), 32768);
        var host = new Sampler(params, new int[0], -1);
        var device = new Sampler(params, new int[0], -1);
        var legacy = new SplittableRandom(7L);
        for (int step = 0; step < 64; step++) {
            int hostToken = host.next(logits.clone()).token();
            DrawRequest draw = device.nextDraw();
            int deviceToken = TokenDraw.pick(logits, 0, logits.length, draw);
            device.accept(deviceToken);
            assertThat(deviceToken).isEqualTo(hostToken);
            assertThat(hostToken).isEqualTo(LegacyDraw.draw(logits, 0.8, 40, 0.95, 0.02, legacy.nextDouble()));
        }
    }

    @Test
    void greedyTakesTheLowestIdAmongEqualMaximaAndNeverNaN() {
        assertThat(pick(new float[] {0f, 3f, 1f, 3f}, DrawRequest.greedy())).isEqualTo(1);
        assertThat(pick(new float[] {-0f, 0f}, DrawRequest.greedy())).isZero();
        assertThat(pick(new float[] {Float.NaN, 1f, Float.NaN, 2f}, DrawRequest.greedy())).isEqualTo(3);
        assertThat(pick(new float[] {Float.NaN, Float.NaN}, DrawRequest.greedy())).isZero();
        float[] masked = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertThat(pick(masked, DrawRequest.greedy())).isZero();
        assertThat(pick(masked, new DrawRequest(1, 0, 0.5, 0, 0.7))).as("nothing to draw from: the argmax").isZero();
        assertThat(pick(new float[] {1f, Float.POSITIVE_INFINITY, 2f, Float.POSITIVE_INFINITY}, new DrawRequest(1, 0, 1, 0, 0.9)))
                .as("an infinite logit wins outright").isEqualTo(1);
        assertThat(pick(new float[] {3f, 20f, 20f, 5f}, new DrawRequest(Double.MIN_NORMAL, 0, 0.9, 0, 0.99)))
                .as("max / temperature overflows: the argmax").isEqualTo(1);
    }

    @Test
    void tiesAreOrderedByIdAlongTheCumulativeWeights() {
        float[] flat = new float[8];  // eight equal candidates: u in [i/8, (i+1)/8) picks id i
        for (int i = 0; i < 8; i++) {
            assertThat(pick(flat, new DrawRequest(1, 0, 1, 0, (i + 0.5) / 8))).isEqualTo(i);
        }
        assertThat(pick(flat, new DrawRequest(1, 3, 1, 0, 0.999))).as("top-3 of ties: the three lowest ids").isEqualTo(2);
        assertThat(pick(flat, new DrawRequest(1, 0, 0.25, 0, 0.999))).as("top-p 0.25 of 8 ties: two ids").isEqualTo(1);
    }

    @Test
    void uniformNumbersAtTheEndsPickTheFirstAndTheLastKeptCandidate() {
        float[] logits = {1f, 5f, 3f, 4f, 2f};  // order 1, 3, 2, 4, 0
        double justBelowOne = Math.nextDown(1.0);
        assertThat(pick(logits, new DrawRequest(1, 0, 1, 0, 0))).isEqualTo(1);
        assertThat(pick(logits, new DrawRequest(1, 0, 1, 0, justBelowOne))).isEqualTo(0);
        assertThat(pick(logits, new DrawRequest(1, 3, 1, 0, justBelowOne))).isEqualTo(2);
        assertThat(pick(logits, new DrawRequest(1.5, 0, 0.9, 0, justBelowOne))).isEqualTo(4);
        assertThat(pick(logits, new DrawRequest(0.7, 0, 1, 0.2, justBelowOne))).isEqualTo(3);
        assertThat(pick(logits, new DrawRequest(1, 1, 1, 0, justBelowOne))).isEqualTo(1);
    }

    @Test
    void fixedPointExponentialIsExactAtZeroMonotoneAndCloseToExp() {
        assertThat(TokenDraw.fixedExp(0)).isEqualTo(1L << TokenDraw.WEIGHT_BITS);
        assertThat(TokenDraw.fixedExp(-40.5)).isZero();
        assertThat(TokenDraw.fixedExp(Double.NaN)).isZero();
        long previous = Long.MAX_VALUE;
        for (double x = 0; x >= -40; x -= 1.0 / 4096) {
            long w = TokenDraw.fixedExp(x);
            assertThat(w).as("x = %s", x).isLessThanOrEqualTo(previous);
            double exact = Math.exp(x) * (1L << TokenDraw.WEIGHT_BITS);
            // rounding to an integer (0.5) plus the polynomial's few ulp
            assertThat(Math.abs(w - exact)).as("x = %s", x).isLessThanOrEqualTo(0.5 + exact * 1e-15);
            previous = w;
        }
    }

    @Test
    void badInputIsRefusedNamingWhatAndWhatWasExpected() {
        assertThatThrownBy(() -> new DrawRequest(1, 0, 1, 0, 1.0)).hasMessageContaining("uniform").hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> new DrawRequest(-1, 0, 1, 0, 0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new DrawRequest(Double.NaN, 0, 1, 0, 0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new DrawRequest(1, -1, 1, 0, 0)).hasMessageContaining("top_k");
        assertThatThrownBy(() -> new DrawRequest(1, 0, 0, 0, 0)).hasMessageContaining("top_p");
        assertThatThrownBy(() -> new DrawRequest(1, 0, 1, 2, 0)).hasMessageContaining("min_p");
        assertThatThrownBy(() -> TokenDraw.pick(new float[0], 0, 0, DrawRequest.greedy())).hasMessageContaining("vocabulary of 0");
    }

    @Test
    void rowsAreReadAtTheirOffset() {
        float[] two = {9f, 1f, 2f, 1f, 2f, 9f};
        assertThat(TokenDraw.pick(two, 3, 3, DrawRequest.greedy())).isEqualTo(2);
        assertThat(TokenDraw.pick(Arrays.copyOf(two, 3), 0, 3, DrawRequest.greedy())).isZero();
    }
}
