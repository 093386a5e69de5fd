package io.tramontane.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.tramontane.weights.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigFileTest {
    @TempDir
    Path tmp;

    static final String DEVSTRAL_2_HF = """
            {"architectures": ["Ministral3ForCausalLM"], "model_type": "ministral3", "head_dim": 128,
             "hidden_act": "silu", "hidden_size": 12288, "intermediate_size": 28672, "max_position_embeddings": 262144,
             "num_attention_heads": 96, "num_hidden_layers": 88, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
             "sliding_window": null, "tie_word_embeddings": false, "vocab_size": 131072, "bos_token_id": 1,
             "quantization_config": {"activation_scheme": "static", "dequantize": false, "quant_method": "fp8",
               "weight_block_size": null, "modules_to_not_convert": ["model.vision_tower", "lm_head"]},
             "rope_parameters": {"beta_fast": 4.0, "beta_slow": 1.0, "factor": 64.0, "llama_4_scaling_beta": 0.0,
               "mscale": 1.0, "mscale_all_dim": 0.0, "original_max_position_embeddings": 4096, "rope_theta": 1000000.0,
               "rope_type": "yarn", "type": "yarn"}}
            """;

    static final String DEVSTRAL_SMALL_2_HF = """
            {"architectures": ["Mistral3ForConditionalGeneration"], "model_type": "mistral3", "image_token_index": 10,
             "projector_hidden_act": "gelu", "spatial_merge_size": 2, "vision_feature_layer": -1,
             "multimodal_projector_bias": false, "vision_config": {"hidden_size": 1024},
             "quantization_config": {"activation_scheme": "static", "quant_method": "fp8", "weight_block_size": null},
             "text_config": {"model_type": "ministral3", "head_dim": 128, "hidden_size": 5120, "intermediate_size": 32768,
               "max_position_embeddings": 393216, "num_attention_heads": 32, "num_hidden_layers": 40,
               "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "vocab_size": 131072,
               "rope_parameters": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 48.0, "llama_4_scaling_beta": 0.1,
                 "mscale": 1.0, "mscale_all_dim": 1.0, "original_max_position_embeddings": 8192,
                 "rope_theta": 100000000.0, "rope_type": "yarn"}}}
            """;

    static final String NATIVE = """
            {"dim": 5120, "n_layers": 40, "head_dim": 128, "hidden_dim": 32768, "n_heads": 32, "n_kv_heads": 8,
             "rope_theta": 1000000000.0, "norm_eps": 1e-05, "vocab_size": 131072%s}
            """;

    private ConfigFile read(String name, String json) throws IOException {
        Path file = tmp.resolve(name);
        Files.writeString(file, json);
        return ConfigFile.read(file);
    }

    @Test
    void devstral2HfConfig() throws IOException {
        ConfigFile f = read("config.json", DEVSTRAL_2_HF);
        ModelConfig c = f.config();
        assertThat(c.architecture()).isEqualTo("Ministral3ForCausalLM");
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.ropeTheta()).isEqualTo(1e6);
        assertThat(c.maxPositions()).isEqualTo(262144);
        assertThat(c.yarn().factor()).isEqualTo(64);
        assertThat(c.yarn().originalMaxPositions()).isEqualTo(4096);
        assertThat(c.yarn().betaFast()).isEqualTo(4);
        assertThat(c.yarn().betaSlow()).isEqualTo(1);
        assertThat(c.yarn().attentionFactor()).isCloseTo(1.4158883083, offset(1e-10));
        assertThat(c.temperature()).as("llama_4_scaling_beta 0 disables it").isNull();
        assertThat(c.quantization().staticActivationScales()).isTrue();
        assertThat(c.quantization().weightBlockSize()).isNull();
        assertThat(f.warnings()).isEmpty();
    }

    @Test
    void devstralSmall2TextPartOfTheMultimodalConfig() throws IOException {
        ConfigFile f = read("config.json", DEVSTRAL_SMALL_2_HF);
        ModelConfig c = f.config();
        assertThat(c.architecture()).isEqualTo("Mistral3ForConditionalGeneration");
        assertThat(c.dim()).isEqualTo(5120);
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.ropeTheta()).isEqualTo(1e8);
        assertThat(c.yarn().attentionFactor()).isEqualTo(1.0);
        assertThat(c.temperature()).isEqualTo(new ModelConfig.QueryTemperature(0.1, 8192));
        assertThat(c.temperature().at(16384)).isCloseTo(1.10986123f, offset(1e-6f));
        assertThat(c.quantization()).isNotNull();
        assertThat(f.warnings()).containsExactly("vision tower present: skipped (text-only engine)");
    }

    @Test
    void nativeApplyScaleDecidesTheAttentionFactor() throws IOException {
        String yarn = ", \"yarn\": {\"factor\": 64.0, \"original_max_position_embeddings\": 4096, \"beta\": 4.0, \"alpha\": 1.0%s}";
        double absent = read("params.json", NATIVE.formatted(yarn.formatted(""))).config().yarn().attentionFactor();
        double on = read("params.json", NATIVE.formatted(yarn.formatted(", \"apply_scale\": true"))).config().yarn().attentionFactor();
        double off = read("params.json", NATIVE.formatted(yarn.formatted(", \"apply_scale\": false"))).config().yarn().attentionFactor();
        assertThat(absent).isEqualTo(on).isCloseTo(1.4158883083, offset(1e-10));
        assertThat(off).isEqualTo(1.0);
    }

    @Test
    void nativeDenseModelWithoutScaling() throws IOException {
        ConfigFile f = read("params.json", NATIVE.formatted(""));
        ModelConfig c = f.config();
        assertThat(c.architecture()).isEqualTo("MistralForCausalLM");
        assertThat(c.headDim()).as("never dim / n_heads").isEqualTo(128);
        assertThat(c.yarn()).isNull();
        assertThat(c.temperature()).isNull();
        assertThat(c.moe()).isNull();
        assertThat(c.maxPositions()).isZero();
        assertThat(f.warnings()).isEmpty();
    }

    @Test
    void nativeTemperatureAndMoe() throws IOException {
        ModelConfig c = read("params.json", NATIVE.formatted(", \"llama_4_scaling\": {\"beta\": 0.1, "
                + "\"original_max_position_embeddings\": 8192}, \"moe\": {\"num_experts\": 8, \"num_experts_per_tok\": 2}"))
                .config();
        assertThat(c.temperature()).isEqualTo(new ModelConfig.QueryTemperature(0.1, 8192));
        assertThat(c.moe()).isEqualTo(new ModelConfig.Moe(8, 2));
        assertThat(c.architecture()).isEqualTo("MixtralForCausalLM");
    }

    @Test
    void hfWithoutHeadDimDerivesItAndReadsLegacyRopeScaling() throws IOException {
        ModelConfig c = read("config.json", """
                {"architectures": ["MistralForCausalLM"], "hidden_size": 64, "intermediate_size": 160,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4, "rms_norm_eps": 1e-5,
                 "vocab_size": 512, "rope_theta": 10000.0,
                 "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024,
                   "attention_factor": 1.25}}
                """).config();
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.yarn().attentionFactor()).as("explicit attention_factor wins").isEqualTo(1.25);
        assertThat(c.yarn().betaFast()).isEqualTo(32);
    }

    @Test
    void ropeThetaMayBeInBothPlacesIfTheyAgree() throws IOException {
        ConfigFile f = read("config.json", DEVSTRAL_2_HF.replace("\"vocab_size\"", "\"rope_theta\": 1000000.0, \"vocab_size\""));
        assertThat(f.config().ropeTheta()).isEqualTo(1e6);
        assertThat(f.warnings()).isEmpty();
        assertThatThrownBy(() -> read("config.json", DEVSTRAL_2_HF.replace("\"vocab_size\"", "\"rope_theta\": 10000.0, \"vocab_size\"")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'rope_parameters.rope_theta'");
    }

    @Test
    void mixtralConfig() throws IOException {
        ModelConfig c = read("config.json", """
                {"architectures": ["MixtralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                 "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-5,
                 "vocab_size": 32000, "rope_theta": 1e6, "num_local_experts": 8, "num_experts_per_tok": 2,
                 "router_aux_loss_coef": 0.02, "sliding_window": null, "max_position_embeddings": 32768}
                """).config();
        assertThat(c.moe()).isEqualTo(new ModelConfig.Moe(8, 2));
        assertThat(c.headDim()).isEqualTo(128);
    }

    /** Property: the HF rules give g(s, mscale) / g(s, mscale_all_dim) when both are non-zero, else g(s, 1). */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void hfAttentionFactorRules(long seed) throws IOException {
        Random random = new Random(seed);
        double factor = 1 + random.nextDouble() * 100;
        double mscale = random.nextBoolean() ? 0 : random.nextDouble() * 2;
        double mscaleAllDim = random.nextBoolean() ? 0 : random.nextDouble() * 2;
        ModelConfig c = read("config.json", DEVSTRAL_2_HF
                .replace("\"factor\": 64.0", "\"factor\": " + factor)
                .replace("\"mscale\": 1.0", "\"mscale\": " + mscale)
                .replace("\"mscale_all_dim\": 0.0", "\"mscale_all_dim\": " + mscaleAllDim)).config();
        double expected = mscale != 0 && mscaleAllDim != 0
                ? (1 + 0.1 * mscale * Math.log(factor)) / (1 + 0.1 * mscaleAllDim * Math.log(factor))
                : 1 + 0.1 * Math.log(factor);
        assertThat(c.yarn().attentionFactor()).isCloseTo(expected, offset(1e-12));
    }

    @Test
    void slidingWindowIsRejectedByName() {
        assertThatThrownBy(() -> read("params.json", NATIVE.formatted(", \"sliding_window\": 4096")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("params.json").hasMessageContaining("'sliding_window'");
        assertThatThrownBy(() -> read("config.json", DEVSTRAL_2_HF.replace("\"sliding_window\": null", "\"sliding_window\": 4096")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("config.json").hasMessageContaining("'sliding_window'");
    }

    @Test
    void blockScaledFp8IsRejectedByName() {
        assertThatThrownBy(() -> read("config.json", DEVSTRAL_2_HF.replace("\"weight_block_size\": null", "\"weight_block_size\": [128, 128]")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'quantization_config.weight_block_size'");
    }

    @Test
    void unsupportedMathIsAnErrorNamingTheField() {
        assertThatThrownBy(() -> read("config.json", DEVSTRAL_2_HF.replace("\"rope_type\": \"yarn\", \"type\": \"yarn\"", "\"rope_type\": \"llama3\"")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'rope_parameters.rope_type'");
        assertThatThrownBy(() -> read("config.json", DEVSTRAL_2_HF.replace("\"beta_slow\": 1.0", "\"beta_slow\": 1.0, \"low_freq_factor\": 1")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'rope_parameters.low_freq_factor'");
        assertThatThrownBy(() -> read("config.json", DEVSTRAL_2_HF.replace("\"silu\"", "\"gelu\"")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'hidden_act'");
        assertThatThrownBy(() -> read("config.json", DEVSTRAL_2_HF.replace("Ministral3ForCausalLM", "LlamaForCausalLM")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'architectures'");
        assertThatThrownBy(() -> read("params.json", NATIVE.formatted(", \"moe\": {\"num_experts\": 8, \"num_experts_per_tok\": 2, \"num_shared_experts\": 1}")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'moe.num_shared_experts'");
        assertThatThrownBy(() -> read("params.json", NATIVE.formatted(", \"yarn\": {\"factor\": 4, \"original_max_position_embeddings\": 8, \"mystery\": 1}")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'yarn.mystery'");
        assertThatThrownBy(() -> read("params.json", NATIVE.formatted(", \"quantization\": {\"qformat_weight\": \"int4\"}")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'quantization.qformat_weight'");
    }

    @Test
    void unknownHarmlessLookingTopLevelFieldIsAWarning() throws IOException {
        ConfigFile f = read("params.json", NATIVE.formatted(", \"mystery\": 1"));
        assertThat(f.warnings()).containsExactly("ignored unknown field 'mystery'");
    }

    @Test
    void invalidValuesNameTheFileAndField() {
        assertThatThrownBy(() -> read("params.json", NATIVE.formatted("").replace("\"n_kv_heads\": 8", "\"n_kv_heads\": 7")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("params.json").hasMessageContaining("n_kv_heads");
        assertThatThrownBy(() -> read("params.json", NATIVE.formatted("").replace("\"dim\": 5120", "\"dim\": 51.5")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'dim'").hasMessageContaining("integer");
        assertThatThrownBy(() -> read("params.json", NATIVE.formatted("").replace("\"vocab_size\": 131072", "\"vocab_size\": 1e12")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'vocab_size'");
        assertThatThrownBy(() -> read("config.json", "{\"architectures\": [\"MistralForCausalLM\"],"))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("config.json").hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> read("params.json", NATIVE.formatted("").replace("\"norm_eps\": 1e-05, ", "")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("'norm_eps'").hasMessageContaining("missing");
    }
}
