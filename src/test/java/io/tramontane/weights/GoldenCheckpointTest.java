package io.tramontane.weights;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.model.ModelConfig;
import io.tramontane.testing.SharedFixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every model of ../shared/golden opens in each layout it ships, and the layouts agree bit for bit. */
class GoldenCheckpointTest {

    @ParameterizedTest
    @ValueSource(strings = {"dense_f32_layouts", "moe_4x2_layouts", "ministral3_yarn_tied"})
    void bothLayoutsGiveIdenticalCanonicalTensors(String name) {
        Path golden = SharedFixtures.resolve("golden/" + name);
        try (Checkpoint nat = Checkpoint.open(golden.resolve("native"));
             Checkpoint hf = Checkpoint.open(golden.resolve("hf"))) {
            assertThat(nat.layout()).isEqualTo(Checkpoint.Layout.NATIVE);
            assertThat(hf.layout()).isEqualTo(Checkpoint.Layout.HF);
            assertSameModel(nat.config(), hf.config());
            CanonicalTensors.assertIdentical(nat.weights(), hf.weights());
            assertThat(nat.parameterCount()).isEqualTo(hf.parameterCount());
            assertThat(nat.bytesByDType()).isEqualTo(hf.bytesByDType());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dense_bf16_hf_gqa", "fp8_native_small", "tekken_vocab_bf16"})
    void singleLayoutModelsOpen(String name) {
        try (Checkpoint c = Checkpoint.open(SharedFixtures.resolve("golden/" + name))) {
            assertThat(c.weights().layers()).hasSize(c.config().nLayers());
            assertThat(c.warnings()).allMatch(w -> w.startsWith("no tokenizer file"));
        }
    }

    @Test
    void gqaModelReadsExplicitHeadDim() {
        try (Checkpoint c = Checkpoint.open(SharedFixtures.resolve("golden/dense_bf16_hf_gqa"))) {
            ModelConfig m = c.config();
            assertThat(m.headDim()).isEqualTo(16);
            assertThat(m.queryWidth()).isEqualTo(128);
            assertThat(c.weights().layers().getFirst().wq().weight().shape()).containsExactly(128, 96);
            assertThat(c.bytesByDType()).containsOnlyKeys(DType.BF16);
        }
    }

    @Test
    void fp8ModelHasScalarScalesOnEveryLinear() {
        try (Checkpoint c = Checkpoint.open(SharedFixtures.resolve("golden/fp8_native_small"))) {
            assertThat(c.config().quantization().staticActivationScales()).isTrue();
            for (LayerWeights l : c.weights().layers()) {
                FeedForward.Dense ffn = (FeedForward.Dense) l.ffn();
                for (Linear linear : new Linear[] {l.wq(), l.wk(), l.wv(), l.wo(), ffn.w1(), ffn.w2(), ffn.w3()}) {
                    assertThat(linear.weight().dtype()).isEqualTo(DType.F8_E4M3);
                    assertThat(linear.weightScale()).isPositive().isNotEqualTo(1f);
                    assertThat(linear.hasActivationScale()).isTrue();
                }
            }
            assertThat(c.weights().tokenEmbeddings().dtype()).isEqualTo(DType.BF16);
            assertThat(c.bytesByDType()).containsOnlyKeys(DType.F8_E4M3, DType.BF16, DType.F32);
        }
    }

    @Test
    void yarnTiedConfigResolvesBothLayoutsAlike() {
        Path golden = SharedFixtures.resolve("golden/ministral3_yarn_tied");
        try (Checkpoint nat = Checkpoint.open(golden.resolve("native"))) {
            ModelConfig m = nat.config();
            assertThat(m.tiedEmbeddings()).isTrue();
            assertThat(nat.weights().output()).isSameAs(nat.weights().tokenEmbeddings());
            assertThat(m.yarn()).isEqualTo(new ModelConfig.Yarn(16, 256, 32, 1, 1.0));
            assertThat(m.temperature()).isEqualTo(new ModelConfig.QueryTemperature(0.1, 256));
        }
    }

    /** Equal except the architecture name, which native params.json does not carry. */
    static void assertSameModel(ModelConfig a, ModelConfig b) {
        assertThat(a).usingRecursiveComparison().ignoringFields("architecture").isEqualTo(b);
    }
}
