package io.tramontane.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.engine.ModelFactory;
import io.tramontane.weights.ModelWeights;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The forward pass against the float64 reference on generated models, prefill and cached decode, TP 1/2/4. */
class ModelForwardTest {
    private static final int BLOCK = 4;

    static Stream<Arguments> models() {
        ModelConfig gqa = TestModels.dense(32, 2, 4, 2, 8, 48, 61);
        ModelConfig mqa = TestModels.dense(24, 2, 4, 1, 12, 40, 50);
        return Stream.of(
                Arguments.of("dense GQA", gqa),
                Arguments.of("MQA, head_dim != dim / heads", mqa),
                Arguments.of("MoE 4 experts top-2", TestModels.withMoe(gqa, 4, 2)),
                Arguments.of("YaRN + query temperature", TestModels.withYarnAndTemperature(gqa)));
    }

    static Stream<Arguments> modelsAndRanks() {
        return models().flatMap(m -> IntStream.of(1, 2, 4).mapToObj(tp -> Arguments.of(m.get()[0], m.get()[1], tp)));
    }

    @ParameterizedTest(name = "{0}, tp={2}")
    @MethodSource("modelsAndRanks")
    void prefillMatchesReferenceAndCachedDecodeMatchesPrefill(String name, ModelConfig config, int tp) {
        ModelWeights weights = TestModels.random(config, 42);
        int[] tokens = new SplittableRandom(7).ints(19, 0, config.vocabSize()).toArray();
        double[][] expected = new ReferenceTransformer(weights).logits(tokens);
        int[] blockTable = scrambledBlocks(tokens.length, 11);

        var options = new ModelFactory.Options(2, tp, 16, BLOCK, true);
        try (LanguageModel model = ModelFactory.cpu(weights, options)) {
            int[] allRows = IntStream.range(0, tokens.length).toArray();
            float[][] prefill = model.forward(Step.ofSequence(tokens, 0, blockTable, allRows));
            assertThat(maxAbsDiff(prefill, expected)).as("prefill vs float64 reference").isLessThan(1e-4);

            // the same sequence again through the cache: a 5-token prefill then one token per step
            int[] head = java.util.Arrays.copyOf(tokens, 5);
            float[][] decoded = new float[tokens.length][];
            float[][] first = model.forward(Step.ofSequence(head, 0, blockTable, IntStream.range(0, 5).toArray()));
            System.arraycopy(first, 0, decoded, 0, 5);
            for (int p = 5; p < tokens.length; p++) {
                decoded[p] = model.forward(Step.ofSequence(new int[] {tokens[p]}, p, blockTable, 0))[0];
            }
            assertThat(maxAbsDiff(decoded, expected)).as("cached decode vs float64 reference").isLessThan(1e-4);
        }
    }

    /** A block table of distinct, non-consecutive blocks, so paging bugs cannot hide. */
    static int[] scrambledBlocks(int positions, int seed) {
        int needed = (positions + BLOCK - 1) / BLOCK;
        int[] table = IntStream.range(0, 16).toArray();
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = table.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1), t = table[i];
            table[i] = table[j];
            table[j] = t;
        }
        return java.util.Arrays.copyOf(table, needed);
    }

    static double maxAbsDiff(float[][] actual, double[][] expected) {
        double max = 0;
        for (int r = 0; r < expected.length; r++) {
            for (int i = 0; i < expected[r].length; i++) max = Math.max(max, Math.abs(actual[r][i] - expected[r][i]));
        }
        return max;
    }
}
