package io.tramontane.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.engine.ModelFactory;
import io.tramontane.weights.ModelWeights;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --cpu-weights q8 / q4} on generated models (no {@code ../shared} needed) against the float64 reference on
 * the original weights: the relative RMS logit error within the bound derived in QuantizedGoldenTest (twice the
 * expected {@code sqrt(7L + 1) x 2.5 / levels / sqrt(12)}; these weights are normal, as that derivation assumes).
 * Widths 48 and 80 are not multiples of 32 (zero-padded last blocks), and TP 2 splits them further. A 40-token
 * prefill (the decoded-block kernels) and the same tokens decoded one by one (the fused kernels) agree.
 */
class QuantizedModelTest {
    private static final int BLOCK = 4;

    static Stream<Arguments> formatsAndRanks() {
        return Stream.of(CpuWeights.Q8, CpuWeights.Q4).flatMap(f -> IntStream.of(1, 2).mapToObj(tp -> Arguments.of(f, tp)));
    }

    @ParameterizedTest(name = "{0}, tp={1}")
    @MethodSource("formatsAndRanks")
    void logitsStayWithinTheQuantizationBoundOfTheFloat64Reference(CpuWeights format, int tp) {
        ModelConfig config = TestModels.dense(48, 2, 4, 2, 12, 80, 300);
        ModelWeights weights = TestModels.random(config, 5);
        int[] tokens = new SplittableRandom(9).ints(40, 0, config.vocabSize()).toArray();
        double[][] expected = new ReferenceTransformer(weights).logits(tokens);
        int[] blockTable = IntStream.range(0, 10).toArray();
        var options = new ModelFactory.Options(2, tp, 10, BLOCK, true, format);
        try (LanguageModel model = ModelFactory.cpu(weights, options)) {
            float[][] prefill = model.forward(Step.ofSequence(tokens, 0, blockTable, IntStream.range(0, 40).toArray()));
            double error = 0, reference = 0;
            for (int t = 0; t < tokens.length; t++) {
                for (int v = 0; v < config.vocabSize(); v++) {
                    error += Math.pow(prefill[t][v] - expected[t][v], 2);
                    reference += expected[t][v] * expected[t][v];
                }
            }
            double perLinear = 2.5 / (format == CpuWeights.Q8 ? 127 : 8) / Math.sqrt(12);
            double bound = 2 * Math.sqrt(7 * config.nLayers() + 1) * perLinear;
            assertThat(Math.sqrt(error / reference)).as("RMS of the logit error / RMS of the logits").isLessThan(bound)
                    .isGreaterThan(0);

            model.forward(Step.ofSequence(Arrays.copyOf(tokens, 1), 0, blockTable, 0));
            for (int p = 1; p < tokens.length; p++) {
                float[] decoded = model.forward(Step.ofSequence(new int[] {tokens[p]}, p, blockTable, 0))[0];
                for (int v = 0; v < config.vocabSize(); v++) {
                    assertThat((double) decoded[v]).as("position %d, logit %d: decoded vs prefill", p, v)
                            .isCloseTo(prefill[p][v], org.assertj.core.data.Offset.offset(1e-4));
                }
            }
        }
    }
}
