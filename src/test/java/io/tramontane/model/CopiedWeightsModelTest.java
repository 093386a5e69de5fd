package io.tramontane.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.engine.ModelFactory;
import io.tramontane.weights.ModelWeights;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code --cpu-weights copied} on generated models, dense and MoE, one rank and two (whose linears are row and column
 * slices of the checkpoint's): a prefill and decode steps give exactly the logits of the stored weights.
 */
class CopiedWeightsModelTest {
    private static final int BLOCK = 4;

    @ParameterizedTest(name = "moe={0}, tp={1}")
    @CsvSource({"false,1", "false,2", "true,1", "true,2"})
    void copiedLinearsGiveTheStoredLogitsBitForBit(boolean moe, int tp) {
        ModelConfig dense = TestModels.dense(48, 2, 4, 2, 12, 80, 300);
        ModelConfig config = moe ? TestModels.withMoe(dense, 4, 2) : dense;
        ModelWeights weights = TestModels.random(config, 17);
        int[] tokens = new SplittableRandom(3).ints(24, 0, config.vocabSize()).toArray();
        int[] blockTable = IntStream.range(0, 8).toArray();
        float[][] stored = run(weights, tp, CpuWeights.STORED, tokens, blockTable);
        float[][] copied = run(weights, tp, CpuWeights.COPIED, tokens, blockTable);
        for (int p = 0; p < stored.length; p++) {
            assertThat(copied[p]).as("logits at step %d", p).containsExactly(stored[p]);
        }
    }

    /** The prefill of all but the last four tokens, then those four decoded one by one: a row of logits each. */
    private static float[][] run(ModelWeights weights, int tp, CpuWeights format, int[] tokens, int[] blockTable) {
        var options = new ModelFactory.Options(2, tp, 8, BLOCK, true, format);
        try (LanguageModel model = ModelFactory.cpu(weights, options)) {
            int prompt = tokens.length - 4;
            float[][] out = new float[tokens.length][];
            float[][] prefill = model.forward(Step.ofSequence(Arrays.copyOf(tokens, prompt), 0, blockTable,
                    IntStream.range(0, prompt).toArray()));
            System.arraycopy(prefill, 0, out, 0, prompt);
            for (int p = prompt; p < tokens.length; p++) {
                out[p] = model.forward(Step.ofSequence(new int[] {tokens[p]}, p, blockTable, 0))[0];
            }
            return out;
        }
    }
}
