package io.tramontane.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.testing.SharedFixtures;
import io.tramontane.weights.SparseDevstral123b;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InspectCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    record Result(int exitCode, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void write() {
        SparseDevstral123b.writeNative(tmp.resolve("123b-native"));
        SparseDevstral123b.writeHf(tmp.resolve("123b-hf"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"123b-native", "123b-hf"})
    void inspects123bShapedCheckpointAsJson(String layout) throws IOException {
        Result r = run("inspect", "--model", tmp.resolve(layout).toString(), "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = JSON.readTree(r.out());
        assertThat(j.get("architecture").asText()).isEqualTo("Ministral3ForCausalLM");
        assertThat(j.get("weight_files").asInt()).isEqualTo(11);
        assertThat(j.get("parameters").asLong()).isEqualTo(125_025_988_608L);
        assertThat(j.get("n_layers").asInt()).isEqualTo(88);
        assertThat(j.get("dim").asInt()).isEqualTo(12288);
        assertThat(j.get("n_heads").asInt()).isEqualTo(96);
        assertThat(j.get("n_kv_heads").asInt()).isEqualTo(8);
        assertThat(j.get("head_dim").asInt()).isEqualTo(128);
        assertThat(j.get("hidden_dim").asInt()).isEqualTo(28672);
        assertThat(j.get("vocab_size").asInt()).isEqualTo(131072);
        assertThat(j.get("max_position_embeddings").asLong()).isEqualTo(262144);
        assertThat(j.get("rope_theta").asDouble()).isEqualTo(1e6);
        JsonNode yarn = j.get("rope_scaling");
        assertThat(yarn.get("type").asText()).isEqualTo("yarn");
        assertThat(yarn.get("factor").asDouble()).isEqualTo(64);
        assertThat(yarn.get("original_max_position_embeddings").asInt()).isEqualTo(4096);
        assertThat(yarn.get("beta_fast").asDouble()).isEqualTo(4);
        assertThat(yarn.get("beta_slow").asDouble()).isEqualTo(1);
        assertThat(yarn.get("attention_factor").asDouble()).isCloseTo(1.4158883083, offset(1e-10));
        assertThat(j.get("temperature_scaling").isNull()).isTrue();
        assertThat(j.get("moe").isNull()).isTrue();
        assertThat(j.get("tied_embeddings").asBoolean()).isFalse();
        assertThat(j.get("quantization").get("activations").asText()).isEqualTo("static per-tensor");
        assertThat(j.get("kv_cache_scales").asText()).isEqualTo("none (an FP8 KV cache uses 1)");
        JsonNode bytes = j.get("dtype_bytes");
        assertThat(bytes.get("F8_E4M3").asLong()).isEqualTo(121_802_588_160L);
        assertThat(bytes.get("BF16").asLong()).isEqualTo(6_446_800_896L);
        assertThat(bytes.get("F32").asLong()).isEqualTo(1_232L * 4);
        assertThat(j.get("tokenizer").get("file").asText()).isEqualTo("tekken.json");
        assertThat(j.get("tokenizer").get("version").asText()).isEqualTo("v13");
        assertThat(j.get("warnings")).isEmpty();
    }

    @Test
    void inspects123bShapedCheckpointAsText() {
        Result r = run("inspect", "--model", tmp.resolve("123b-hf").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("Ministral3ForCausalLM", "125,025,988,608", "F8_E4M3 121,802,588,160",
                "BF16 6,446,800,896", "96 (kv heads 8)", "yarn factor 64.0 original 4096 beta_fast 4.0 beta_slow 1.0",
                "attention factor 1.4158883083", "none (dense)", "tekken.json (v13)");
    }

    @Test
    void inspectsGoldenYarnTiedModel() throws IOException {
        Path dir = SharedFixtures.resolve("golden/ministral3_yarn_tied/hf");
        JsonNode j = JSON.readTree(run("inspect", "--model", dir.toString(), "--json").out());
        assertThat(j.get("tied_embeddings").asBoolean()).isTrue();
        assertThat(j.get("rope_scaling").get("attention_factor").asDouble()).isEqualTo(1.0);
        assertThat(j.get("temperature_scaling").get("beta").asDouble()).isEqualTo(0.1);
        assertThat(j.get("temperature_scaling").get("original_max_position_embeddings").asInt()).isEqualTo(256);
        assertThat(j.get("parameters").asLong()).isEqualTo(768L * 64 + 2 * (4 * 32 * 64 * 2 + 2 * 32 * 64 * 2 + 3 * 192 * 64 + 2 * 64) + 64);
        assertThat(j.get("warnings").get(0).asText()).contains("no tokenizer");
    }

    @Test
    void missingDirectoryIsOneLineNamingIt() {
        Result r = run("inspect", "--model", tmp.resolve("nowhere").toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(r.err().strip()).doesNotContain("\n").contains(tmp.resolve("nowhere").toString(), "not a directory");
    }

    @Test
    void corruptedShardIsOneLineNamingFileAndTensor() throws IOException {
        Path dir = tmp.resolve("corrupt");
        SparseDevstral123b.writeHf(dir);
        Path shard = dir.resolve("model-00003-of-00011.safetensors");
        byte[] head = new byte[4096];
        try (var in = Files.newInputStream(shard)) {
            in.readNBytes(head, 0, head.length);
        }
        String header = new String(head, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = header.indexOf("\"dtype\":\"F8_E4M3\"");
        String tensor = header.substring(header.lastIndexOf("\"model.", at), header.lastIndexOf("\":{", at)).substring(1);
        try (var file = new java.io.RandomAccessFile(shard.toFile(), "rw")) {
            file.seek(at + "\"dtype\":\"".length());
            file.writeBytes("F8_E5M9");
        }
        Result r = run("inspect", "--model", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(r.err().strip()).doesNotContain("\n").contains(shard.toString(), tensor, "unknown dtype 'F8_E5M9'");
    }
}
