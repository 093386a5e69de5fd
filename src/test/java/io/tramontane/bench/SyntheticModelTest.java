package io.tramontane.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.engine.ModelFactory;
import io.tramontane.model.ModelConfig;
import io.tramontane.model.Step;
import io.tramontane.weights.DType;
import io.tramontane.weights.FeedForward;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SyntheticModelTest {
    private static final ModelConfig SHAPE = ModelShape.parse("dim=64,layers=2,heads=4,kv_heads=2,hidden=96,vocab=50");

    @ParameterizedTest
    @ValueSource(strings = {"f32", "bf16", "fp8"})
    void linearsHaveTheMagnitudeOfATrainedModelAndTheModelRuns(String dtype) {
        try (SyntheticModel model = SyntheticModel.generate(SHAPE, SyntheticModel.dtype(dtype), 7)) {
            Linear w2 = ((FeedForward.Dense) model.weights().layers().get(1).ffn()).w2();
            assertThat(w2.weight().dtype()).isEqualTo(SyntheticModel.dtype(dtype));
            double rms = rms(w2.weight()) * w2.weightScale();
            // values of one exponent pair have rms 2.4 * 2^E, and E is rounded: within a factor sqrt(2)
            assertThat(rms).isBetween(0.7 / Math.sqrt(96), 1.42 / Math.sqrt(96));
            try (var lm = ModelFactory.cpu(model.weights(), new ModelFactory.Options(1, 1, 4, 16, true))) {
                float[] logits = lm.forward(Step.ofSequence(new int[] {1, 2, 3}, 0, new int[] {0}, 2))[0];
                for (float l : logits) assertThat(l).isFinite();
            }
        }
    }

    @Test
    void fp8KeepsEmbeddingsAndOutputInBf16AndSaysItIsQuantized() {
        try (SyntheticModel model = SyntheticModel.generate(SHAPE, DType.F8_E4M3, 1)) {
            assertThat(model.weights().tokenEmbeddings().dtype()).isEqualTo(DType.BF16);
            assertThat(model.weights().output().dtype()).isEqualTo(DType.BF16);
            assertThat(model.config().quantization()).isNotNull();
        }
    }

    @Test
    void theSameSeedGivesTheSameWeights() {
        try (SyntheticModel a = SyntheticModel.generate(SHAPE, DType.BF16, 3);
             SyntheticModel b = SyntheticModel.generate(SHAPE, DType.BF16, 3);
             SyntheticModel c = SyntheticModel.generate(SHAPE, DType.BF16, 4)) {
            float[] wa = a.weights().layers().getFirst().wq().weight().toFloatArray();
            assertThat(b.weights().layers().getFirst().wq().weight().toFloatArray()).containsExactly(wa);
            assertThat(c.weights().layers().getFirst().wq().weight().toFloatArray()).isNotEqualTo(wa);
        }
    }

    @Test
    void costCountsEveryWeightOnceForDecodeAndTwoFlopsPerWeightForPrefill() {
        try (SyntheticModel model = SyntheticModel.generate(SHAPE, DType.BF16, 1)) {
            ModelCost cost = ModelCost.of(model.weights());
            long perLayer = 64L * 64 * 2 + 32L * 64 * 2 + 3L * 64 * 96;
            assertThat(cost.activeParams()).isEqualTo(2 * perLayer + 50 * 64);
            long norms = 2 * (2 * 64 * 4) + 64 * 4;
            assertThat(cost.decodeBytesPerStep(1)).isEqualTo(2 * (2 * perLayer + 50 * 64) + norms + 64 * 2);
            assertThat(cost.decodeBytesPerStep(4) - cost.decodeBytesPerStep(1)).isEqualTo(3 * 64 * 2);
            double attention = 4.0 * 2 * 4 * 16 * (10 * 11 / 2);
            assertThat(cost.prefillFlops(10, 1)).isEqualTo(2.0 * 2 * perLayer * 10 + 2.0 * 50 * 64 + attention);
        }
    }

    @Test
    void shapesNameTheirMistakes() {
        assertThatThrownBy(() -> ModelShape.parse("dim=64,layers=2")).hasMessageContaining("missing heads");
        assertThatThrownBy(() -> ModelShape.parse("dim=x")).hasMessageContaining("dim must be an integer");
        assertThat(ModelShape.describe(ModelShape.parse("dim=64,layers=2,heads=4,kv_heads=2,hidden=96,vocab=50")))
                .isEqualTo("dim=64,layers=2,heads=4,kv_heads=2,head_dim=16,hidden=96,vocab=50");
    }

    private static double rms(Tensor t) {
        double sum = 0;
        float[] values = t.toFloatArray();
        for (float v : values) sum += (double) v * v;
        return Math.sqrt(sum / values.length);
    }
}
