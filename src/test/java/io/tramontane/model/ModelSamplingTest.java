package io.tramontane.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.engine.ModelFactory;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.TokenDraw;
import io.tramontane.weights.ModelWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** forwardAndSample draws on the backend exactly what TokenDraw draws from forward's logits, TP 1, 2 and 4. */
class ModelSamplingTest {
    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2, 4})
    void backendDrawsEqualTheHostDrawOnTheSameLogits(int tp) {
        ModelConfig config = TestModels.dense(32, 2, 4, 2, 8, 48, 61);
        ModelWeights weights = TestModels.random(config, 42);
        SplittableRandom random = new SplittableRandom(tp);
        int[] tokens = random.ints(9, 0, config.vocabSize()).toArray();
        int[] rows = {0, 3, 4, 8};
        int[] blockTable = ModelForwardTest.scrambledBlocks(tokens.length, 5);
        try (LanguageModel model = ModelFactory.cpu(weights, new ModelFactory.Options(2, tp, 16, 4, true))) {
            Step step = Step.ofSequence(tokens, 0, blockTable, rows);
            float[][] logits = model.forward(step);
            for (int trial = 0; trial < 20; trial++) {
                List<DrawRequest> draws = new ArrayList<>();
                for (int r = 0; r < rows.length; r++) {
                    draws.add(trial == 0 ? DrawRequest.greedy() : new DrawRequest(random.nextDouble(0.1, 2),
                            random.nextInt(0, 10), random.nextDouble(0.05, 1), random.nextDouble(0, 0.2), random.nextDouble()));
                }
                int[] expected = IntStream.range(0, rows.length)
                        .map(r -> TokenDraw.pick(logits[r], 0, logits[r].length, draws.get(r))).toArray();
                assertThat(model.forwardAndSample(step, draws)).as("trial %d", trial).containsExactly(expected);
            }
            assertThatThrownBy(() -> model.forwardAndSample(step, List.of(DrawRequest.greedy())))
                    .hasMessageContaining("1 draws for 4 logit rows");
        }
    }

    @ParameterizedTest(name = "rows={0}")
    @ValueSource(ints = {0, 3})
    void theCpuBackendRefusesADrawCountOtherThanTheRows(int rows) {
        try (CpuBackend cpu = new CpuBackend(new CpuBackend.Options(1, true))) {
            var logits = cpu.allocate(rows, 5);
            assertThat(cpu.sample(logits, java.util.Collections.nCopies(rows, DrawRequest.greedy()))).hasSize(rows);
            assertThatThrownBy(() -> cpu.sample(logits, List.of(DrawRequest.greedy(), DrawRequest.greedy())))
                    .hasMessageContaining("2 draws for " + rows + " rows of logits");
        }
    }
}
