package io.tramontane.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SamplerTest {
    /** Logits whose softmax at temperature 1 is exactly {0.5, 0.3, 0.2, 0} (the last is impossible). */
    private static float[] probabilities() {
        return new float[] {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2), Float.NEGATIVE_INFINITY};
    }

    private static Set<Integer> drawn(SamplingParams params, float[] logits, int draws) {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < draws; i++) {
            // a fresh sampler per draw: no penalties accumulate; the seed varies the draw
            seen.add(new Sampler(params.withSeed((long) i), new int[0], -1).next(logits.clone()).token());
        }
        return seen;
    }

    private static SamplingParams sampling() {
        return SamplingParams.greedy(16).withTemperature(1);
    }

    @Test
    void greedyTakesTheLowestIdOnTies() {
        var sampler = new Sampler(SamplingParams.greedy(4), new int[0], -1);
        assertThat(sampler.next(new float[] {0f, 3f, 1f, 3f}).token()).isEqualTo(1);
    }

    @Test
    void topKKeepsExactlyKCandidates() {
        assertThat(drawn(sampling().withFilters(2, 1, 0), probabilities(), 300)).containsExactlyInAnyOrder(0, 1);
        assertThat(drawn(sampling().withFilters(3, 1, 0), probabilities(), 300)).containsExactlyInAnyOrder(0, 1, 2);
        assertThat(drawn(sampling().withFilters(1, 1, 0), probabilities(), 50)).containsExactly(0);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingTheMass() {
        assertThat(drawn(sampling().withFilters(0, 0.45, 0), probabilities(), 100)).containsExactly(0);
        assertThat(drawn(sampling().withFilters(0, 0.75, 0), probabilities(), 300)).containsExactlyInAnyOrder(0, 1);
        assertThat(drawn(sampling().withFilters(0, 0.85, 0), probabilities(), 300)).containsExactlyInAnyOrder(0, 1, 2);
    }

    @Test
    void minPDropsTokensBelowTheFractionOfTheTopProbability() {
        // threshold = min_p * 0.5: 0.25 keeps {0.5, 0.3}; 0.195 also keeps 0.2
        assertThat(drawn(sampling().withFilters(0, 1, 0.5), probabilities(), 300)).containsExactlyInAnyOrder(0, 1);
        assertThat(drawn(sampling().withFilters(0, 1, 0.39), probabilities(), 300)).containsExactlyInAnyOrder(0, 1, 2);
    }

    @Test
    void samplingFrequenciesFollowTheProbabilities() {
        int[] counts = new int[4];
        var sampler = new Sampler(sampling().withSeed(1L), new int[0], -1);
        for (int i = 0; i < 20_000; i++) counts[sampler.next(probabilities()).token()]++;
        assertThat(counts[0] / 20_000.0).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.02));
        assertThat(counts[2] / 20_000.0).isCloseTo(0.2, org.assertj.core.data.Offset.offset(0.02));
        assertThat(counts[3]).isZero();
    }

    @Test
    void presencePenaltyAppliesOncePerSeenToken() {
        var sampler = new Sampler(SamplingParams.greedy(8).withPenalties(0.2, 0, 1), new int[0], -1);
        int[] picks = IntStream.range(0, 4).map(i -> sampler.next(new float[] {1.0f, 0.9f}).token()).toArray();
        // 1.0 vs 0.9 -> 0; then 0.8 vs 0.9 -> 1; then 0.8 vs 0.7 -> 0; presence does not grow with count -> 0
        assertThat(picks).containsExactly(0, 1, 0, 0);
    }

    @Test
    void frequencyPenaltyGrowsWithTheCount() {
        var sampler = new Sampler(SamplingParams.greedy(8).withPenalties(0, 0.3, 1), new int[0], -1);
        int[] picks = IntStream.range(0, 4).map(i -> sampler.next(new float[] {1.0f, 0.5f}).token()).toArray();
        // 1.0 -> 0; 0.7 vs 0.5 -> 0; 0.4 vs 0.5 -> 1; 0.4 vs 0.2 -> 0
        assertThat(picks).containsExactly(0, 0, 1, 0);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfPromptTokens() {
        var penalized = SamplingParams.greedy(4).withPenalties(0, 0, 1.5);
        assertThat(new Sampler(penalized, new int[] {0}, -1).next(new float[] {2.0f, 1.5f}).token()).isEqualTo(1);
        assertThat(new Sampler(penalized, new int[] {1}, -1).next(new float[] {-1.0f, -0.8f}).token()).isEqualTo(0);
        assertThat(new Sampler(penalized, new int[] {}, -1).next(new float[] {2.0f, 1.5f}).token()).isEqualTo(0);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void aFixedSeedReproducesTheSequence(long seed) {
        var params = sampling().withSeed(seed);
        float[] logits = new float[64];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.sin(i);
        int[] a = new int[32], b = new int[32];
        var first = new Sampler(params, new int[0], -1);
        var second = new Sampler(params, new int[0], -1);
        for (int i = 0; i < 32; i++) {
            a[i] = first.next(logits.clone()).token();
            b[i] = second.next(logits.clone()).token();
        }
        assertThat(a).containsExactly(b);
        var other = new Sampler(params.withSeed(seed + 100), new int[0], -1);
        int[] c = IntStream.range(0, 32).map(i -> other.next(logits.clone()).token()).toArray();
        assertThat(c).isNotEqualTo(a);
    }

    @Test
    void minTokensMasksEndOfSequenceUntilReached() {
        var params = SamplingParams.greedy(8).withLimits(8, 2, false);
        var sampler = new Sampler(params, new int[0], 1);
        float[] eosFavoured = {0f, 5f, 1f};
        assertThat(sampler.next(eosFavoured.clone()).token()).isEqualTo(2);
        assertThat(sampler.next(eosFavoured.clone()).token()).isEqualTo(2);
        assertThat(sampler.next(eosFavoured.clone()).token()).isEqualTo(1);
    }

    @Test
    void logprobsComeFromTheRawLogitsWithTopAlternatives() {
        var sampler = new Sampler(SamplingParams.greedy(4).withLogprobs(2).withPenalties(0, 0, 2), new int[] {0}, -1);
        Sampler.Sample s = sampler.next(probabilities());
        assertThat(s.token()).isEqualTo(1);  // the penalty moved the choice...
        assertThat(s.logprob()).isCloseTo((float) Math.log(0.3), org.assertj.core.data.Offset.offset(1e-5f));  // ...not the logprob
        assertThat(s.topTokens()).containsExactly(0, 1);
        assertThat(s.topLogprobs()[0]).isCloseTo((float) Math.log(0.5), org.assertj.core.data.Offset.offset(1e-5f));
    }

    @Test
    void candidatesAreOrderedByLogitThenIdIncludingNegativeValues() {
        float[] logits = {-1f, 2f, -0f, 2f, 0f, -3.5f, Float.NEGATIVE_INFINITY, 7f};
        assertThat(Sampler.candidates(logits, Float.NEGATIVE_INFINITY)).containsExactly(7, 1, 3, 2, 4, 0, 5);
        assertThat(Sampler.candidates(logits, -1f)).containsExactly(7, 1, 3, 2, 4, 0);
    }

    @Test
    void invalidParametersNameTheField() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SamplingParams.greedy(4).withFilters(0, 1.5, 0))
                .hasMessageContaining("top_p");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SamplingParams.greedy(0)).hasMessageContaining("max_tokens");
    }

    @Test
    void onlyPlainRequestsLeaveTheLogitsOnTheBackend() {
        var plain = sampling().withFilters(5, 0.9, 0.1);
        assertThat(new Sampler(plain, new int[0], -1).needsLogits()).isFalse();
        assertThat(new Sampler(plain.withLogprobs(0), new int[0], -1).needsLogits()).isTrue();
        assertThat(new Sampler(plain.withPenalties(0.1, 0, 1), new int[0], -1).needsLogits()).isTrue();
        assertThat(new Sampler(plain.withPenalties(0, 0.1, 1), new int[0], -1).needsLogits()).isTrue();
        assertThat(new Sampler(plain.withPenalties(0, 0, 1.1), new int[0], -1).needsLogits()).isTrue();
        TokenConstraint anything = new TokenConstraint() {
            public void mask(float[] logits) {}

            public void accept(int token) {}

            public boolean isComplete() {
                return false;
            }
        };
        assertThat(new Sampler(plain, new int[0], -1, anything).needsLogits()).isTrue();
        var minTokens = new Sampler(plain.withLimits(16, 1, false), new int[0], 0);
        assertThat(minTokens.needsLogits()).isTrue();
        minTokens.accept(3);  // one token generated: min_tokens is reached
        assertThat(minTokens.needsLogits()).isFalse();
    }

    @Test
    void drawsTakeOneUniformNumberPerSampledTokenAndNoneWhenGreedy() {
        var seeded = sampling().withSeed(11L);
        var sampler = new Sampler(seeded, new int[0], -1);
        var stream = new java.util.SplittableRandom(11L);
        for (int i = 0; i < 5; i++) assertThat(sampler.nextDraw().uniform()).isEqualTo(stream.nextDouble());
        DrawRequest greedy = new Sampler(SamplingParams.greedy(4).withSeed(11L), new int[0], -1).nextDraw();
        assertThat(greedy).isEqualTo(DrawRequest.greedy());
    }
}
