package io.tramontane.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.weights.SafetensorsFile;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {
    @TempDir
    static Path cache;

    @BeforeAll
    static void useTempCache() {
        System.setProperty("tramontane.cache", cache.toString());
    }

    @AfterAll
    static void restore() {
        System.clearProperty("tramontane.cache");
    }

    @Test
    void generateJsonReportsIdsTextAndFinishReason() throws Exception {
        var result = CliContractTest.run("generate", "--model", "demo", "--prompt-ids", "1,300,301", "--max-tokens", "7",
                "--ignore-eos", "--json", "--threads", "2");
        assertThat(result.exitCode()).as(result.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(result.out());
        assertThat(json.get("ids")).hasSize(7);
        assertThat(json.get("finish_reason").asText()).isEqualTo("length");
        assertThat(json.get("text").isTextual()).isTrue();
    }

    @Test
    void generateStreamsTextFromAPrompt() {
        var result = CliContractTest.run("generate", "--prompt", "The wind", "--max-tokens", "5", "--ignore-eos");
        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(result.out()).isNotBlank();
    }

    @Test
    void badSamplingValuesAreUsageErrorsNamingTheField() {
        var result = CliContractTest.run("generate", "--prompt", "x", "--top-p", "1.5");
        assertThat(result.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(result.err()).contains("top_p");
    }

    @Test
    void logitsWritesOneF32RowPerPosition(@TempDir Path out) throws Exception {
        Path file = out.resolve("logits.safetensors");
        var result = CliContractTest.run("logits", "--model", "demo", "--prompt-ids", "1,300,301", "--out", file.toString());
        assertThat(result.exitCode()).as(result.err()).isZero();
        try (Arena arena = Arena.ofConfined()) {
            Tensor logits = SafetensorsFile.open(file, arena).tensor("logits");
            assertThat(logits.shape()).hasSize(2).startsWith(3L);
            assertThat(logits.dtype().name()).isEqualTo("F32");
        }
    }

    @Test
    void chatKeepsTheConversationAcrossTurns() {
        var chat = new ChatCommand();
        chat.input = new java.io.ByteArrayInputStream("Hello\nAnd again\n\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        java.io.StringWriter out = new java.io.StringWriter();
        var cli = new picocli.CommandLine(chat);
        cli.setOut(new java.io.PrintWriter(out, true));
        int code = cli.execute("--max-tokens", "4", "--seed", "1", "--threads", "2");
        assertThat(code).isZero();
        assertThat(out.toString()).contains("random weights").containsSubsequence("> ", "> ", "> ");
    }

    @Test
    void theCudaBackendWithoutADriverFailsOnOneLineAndAnUnknownBackendIsAUsageError() {
        org.junit.jupiter.api.Assumptions.assumeFalse(io.tramontane.cuda.Cuda.available(), "a CUDA driver is present");
        var cuda = CliContractTest.run("generate", "--backend", "cuda", "--prompt-ids", "1", "--max-tokens", "1");
        assertThat(cuda.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(cuda.err().strip().lines()).hasSize(1);
        assertThat(cuda.err()).containsIgnoringCase("cuda");
        var badCache = CliContractTest.run("generate", "--kv-cache-gib", "0", "--prompt-ids", "1");
        assertThat(badCache.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(badCache.err()).contains("--kv-cache-gib must be > 0");
        var unknown = CliContractTest.run("generate", "--backend", "tpu", "--prompt-ids", "1");
        assertThat(unknown.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(unknown.err()).contains("--backend must be cpu or cuda");
    }

    @Test
    void cpuWeightsAreQuantizedAtLoadAndOtherValuesOrBackendsAreUsageErrors() throws Exception {
        var q4 = CliContractTest.run("generate", "--model", "demo", "--cpu-weights", "q4", "--prompt-ids", "1,300,301",
                "--max-tokens", "3", "--ignore-eos", "--json", "--threads", "2");
        assertThat(q4.exitCode()).as(q4.err()).isZero();
        assertThat(new ObjectMapper().readTree(q4.out()).get("ids")).hasSize(3);
        var unknown = CliContractTest.run("generate", "--cpu-weights", "q5", "--prompt-ids", "1");
        assertThat(unknown.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(unknown.err()).contains("--cpu-weights must be stored, copied, q8 or q4, got 'q5'");
        var cuda = CliContractTest.run("generate", "--backend", "cuda", "--cpu-weights", "q8", "--prompt-ids", "1");
        assertThat(cuda.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(cuda.err()).contains("--cpu-weights q8 applies to --backend cpu only");
    }

    @Test
    void copiedCpuWeightsGenerateTheTokensTheStoredOnesDo() throws Exception {
        String[] args = {"generate", "--model", "demo", "--prompt-ids", "1,300,301", "--max-tokens", "6", "--ignore-eos",
                "--json", "--threads", "2", "--cpu-weights", "stored"};
        var stored = CliContractTest.run(args);
        args[args.length - 1] = "copied";
        var copied = CliContractTest.run(args);
        assertThat(stored.exitCode()).as(stored.err()).isZero();
        assertThat(copied.exitCode()).as(copied.err()).isZero();
        var ids = new ObjectMapper().readTree(stored.out()).get("ids");
        assertThat(ids).hasSize(6);
        assertThat(new ObjectMapper().readTree(copied.out()).get("ids")).isEqualTo(ids);
    }

    @Test
    void kvCacheDtypeIsBf16Fp8OrF32AndFp8IsCudaOnly() throws Exception {
        var cpu = CliContractTest.run("generate", "--kv-cache-dtype", "fp8", "--prompt-ids", "1");
        assertThat(cpu.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(cpu.err()).contains("--kv-cache-dtype fp8 applies to --backend cuda only");
        var unknown = CliContractTest.run("generate", "--backend", "cuda", "--kv-cache-dtype", "int4", "--prompt-ids", "1");
        assertThat(unknown.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(unknown.err()).contains("--kv-cache-dtype must be bf16, fp8 or f32, got 'int4'");
        for (String dtype : new String[] {"bf16", "f32"}) {
            var run = CliContractTest.run("generate", "--model", "demo", "--prompt-ids", "1,300,301", "--max-tokens", "4",
                    "--ignore-eos", "--json", "--threads", "2", "--kv-cache-dtype", dtype);
            assertThat(run.exitCode()).as(run.err()).isZero();
            assertThat(new ObjectMapper().readTree(run.out()).get("ids")).as(dtype).hasSize(4);
        }
    }

    @Test
    void aMissingModelDirectoryIsARuntimeErrorOnOneLine() {
        var result = CliContractTest.run("generate", "--model", "/no/such/model", "--prompt-ids", "1");
        assertThat(result.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(result.err().strip().lines()).hasSize(1);
        assertThat(result.err()).contains("/no/such/model");
    }
}
