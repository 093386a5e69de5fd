package io.tramontane.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.cuda.Cuda;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench commands run on tiny shapes and print well-formed JSON; no timing is asserted. */
class BenchCommandTest {
    private static final String TINY = "dim=64,layers=2,heads=4,kv_heads=2,head_dim=16,hidden=128,vocab=300";
    private static final ObjectMapper JSON = new ObjectMapper();

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
    void rooflineMeasuresEachThreadCountAndSavesTheResultForTheOthers() throws Exception {
        var result = CliContractTest.run("bench", "roofline", "--threads", "1,2", "--buffer-mib", "64", "--runs", "1", "--json");
        assertThat(result.exitCode()).as(result.err()).isZero();
        JsonNode json = JSON.readTree(result.out());
        assertThat(json.get("points")).hasSize(2);
        for (JsonNode point : json.get("points")) {
            assertThat(point.get("read_gb_per_second").asDouble()).isPositive();
            assertThat(point.get("fma_gflops").asDouble()).isPositive();
        }
        assertThat(json.get("gpu").asText()).isNotBlank();
        assertThat(json.at("/machine/cores").asInt()).isPositive();
        assertThat(JSON.readTree(Files.readString(cache.resolve("roofline.json")))).isEqualTo(json);

        var decode = CliContractTest.run("bench", "decode", "--shape", TINY, "--tokens", "2", "--warmup", "1", "--settle", "0",
                "--threads", "1", "--json");
        assertThat(decode.exitCode()).as(decode.err()).isZero();
        assertThat(JSON.readTree(decode.out()).get("roofline_fraction").asDouble()).isPositive();
    }

    @Test
    void decodeReportsTokensPerSecondAndWeightBytes() throws Exception {
        var result = CliContractTest.run("bench", "decode", "--shape", TINY, "--dtype", "fp8", "--batch", "3",
                "--tokens", "4", "--warmup", "1", "--settle", "0.5", "--threads", "2", "--json");
        assertThat(result.exitCode()).as(result.err()).isZero();
        JsonNode json = JSON.readTree(result.out());
        assertThat(json.get("dtype").asText()).isEqualTo("fp8");
        assertThat(json.get("batch").asInt()).isEqualTo(3);
        assertThat(json.get("tokens_per_second").asDouble()).isPositive();
        assertThat(json.get("weight_bytes_per_token").asDouble())
                .isEqualTo(json.get("weight_bytes_per_step").asDouble() / 3);
        assertThat(json.get("achieved_gb_per_second").asDouble()).isPositive();
        // the warm-up went on past its one step while the JIT compiled, for at most the half second asked
        assertThat(json.get("warmup_steps").asInt()).isGreaterThan(1);
        assertThat(json.has("jit_settled")).isTrue();
        assertThat(json.get("jit_millis_timed").asLong()).isNotNegative();
    }

    @Test
    void decodeAtADepthCountsTheKvCacheItReadsInItsDtype() throws Exception {
        JsonNode[] runs = new JsonNode[2];
        String[] dtypes = {"bf16", "f32"};
        for (int i = 0; i < 2; i++) {
            var result = CliContractTest.run("bench", "decode", "--shape", TINY, "--batch", "2", "--context", "600",
                    "--tokens", "3", "--warmup", "2", "--settle", "0", "--threads", "2", "--kv-cache-dtype", dtypes[i], "--json");
            assertThat(result.exitCode()).as(result.err()).isZero();
            runs[i] = JSON.readTree(result.out());
            assertThat(runs[i].get("kv_cache").asText()).isEqualTo(dtypes[i]);
            assertThat(runs[i].get("context").asInt()).isEqualTo(600);
            assertThat(runs[i].get("context_start").asInt()).isEqualTo(602);
            // steps at positions 602..604 read 603..605 positions of 2 sequences: 2 layers x K and V x 2 kv heads x 16
            long perPosition = 2L * 2 * 2 * 16 * (i == 0 ? 2 : 4);
            assertThat(runs[i].get("kv_bytes_per_step").asLong()).isEqualTo(2 * 604 * perPosition);
            double steps = 3 / runs[i].get("seconds").asDouble();
            assertThat(runs[i].get("achieved_gb_per_second").asDouble()).isCloseTo(steps * (runs[i].get("weight_bytes_per_step")
                    .asLong() + runs[i].get("kv_bytes_per_step").asLong()) / 1e9, org.assertj.core.data.Percentage.withPercentage(1e-6));
        }
        var fp8 = CliContractTest.run("bench", "decode", "--shape", TINY, "--kv-cache-dtype", "fp8");
        assertThat(fp8.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(fp8.err()).contains("--kv-cache-dtype fp8 applies to --backend cuda only");
        var negative = CliContractTest.run("bench", "decode", "--shape", TINY, "--context", "-1");
        assertThat(negative.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(negative.err()).contains("context, warmup and settle >= 0");
    }

    @Test
    void decodeWithQuantizedWeightsCountsTheirBlocksAndScales() throws Exception {
        var result = CliContractTest.run("bench", "decode", "--shape", TINY, "--dtype", "bf16", "--cpu-weights", "q8",
                "--tokens", "2", "--warmup", "1", "--settle", "0", "--threads", "2", "--json");
        assertThat(result.exitCode()).as(result.err()).isZero();
        JsonNode json = JSON.readTree(result.out());
        assertThat(json.get("dtype").asText()).isEqualTo("bf16");
        assertThat(json.get("cpu_weights").asText()).isEqualTo("q8");
        CpuWeights q8 = CpuWeights.Q8;
        long layer = 2 * q8.bytes(64, 64) + 2 * q8.bytes(32, 64) + 2 * q8.bytes(128, 64) + q8.bytes(64, 128);
        long norms = 4 * (2 * 2 * 64 + 64), embeddingRow = 2 * 64;  // F32 gains, one BF16 embedding row
        assertThat(json.get("weight_bytes_per_step").asLong())
                .isEqualTo(2 * layer + q8.bytes(300, 64) + norms + embeddingRow);
        assertThat(json.get("load_seconds").asDouble()).isPositive();

        var human = CliContractTest.run("bench", "prefill", "--shape", TINY, "--cpu-weights", "q4", "--prompt", "40",
                "--threads", "1");
        assertThat(human.exitCode()).as(human.err()).isZero();
        assertThat(human.out()).contains("bf16 as q4");
        var bad = CliContractTest.run("bench", "decode", "--shape", TINY, "--cpu-weights", "int4");
        assertThat(bad.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(bad.err()).contains("--cpu-weights must be stored, copied, q8 or q4, got 'int4'");
    }

    @Test
    void decodeWithCopiedWeightsCountsTheStoredBytesAndSaysWhatLiesOnHugePages() throws Exception {
        JsonNode[] runs = new JsonNode[2];
        String[] formats = {"stored", "copied"};
        for (int i = 0; i < 2; i++) {
            var result = CliContractTest.run("bench", "decode", "--shape", TINY, "--dtype", "bf16", "--cpu-weights", formats[i],
                    "--tokens", "2", "--warmup", "1", "--settle", "0", "--threads", "2", "--json");
            assertThat(result.exitCode()).as(result.err()).isZero();
            runs[i] = JSON.readTree(result.out());
            assertThat(runs[i].get("cpu_weights").asText()).isEqualTo(formats[i]);
            long huge = runs[i].get("huge_page_bytes").asLong();
            if (java.nio.file.Files.exists(java.nio.file.Path.of("/proc/self/smaps_rollup"))) {
                assertThat(huge).isNotNegative();
            } else {
                assertThat(huge).isEqualTo(-1);
            }
        }
        assertThat(runs[1].get("weight_bytes_per_step").asLong()).isEqualTo(runs[0].get("weight_bytes_per_step").asLong());
    }

    @Test
    void prefillReportsTokensPerSecondAndFlops() throws Exception {
        var result = CliContractTest.run("bench", "prefill", "--shape", TINY, "--dtype", "f32", "--prompt", "40",
                "--batch", "2", "--runs", "2", "--threads", "1", "--json");
        assertThat(result.exitCode()).as(result.err()).isZero();
        JsonNode json = JSON.readTree(result.out());
        assertThat(json.get("tokens").asInt()).isEqualTo(80);
        assertThat(json.get("run_seconds")).hasSize(2);
        assertThat(json.get("gflops_per_second").asDouble()).isPositive();
    }

    @Test
    void humanOutputNamesTheFigures() {
        var result = CliContractTest.run("bench", "decode", "--shape", TINY, "--tokens", "2", "--warmup", "0");
        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(result.out()).contains("tokens/s", "GB/s");
    }

    @Test
    void badShapesAndMissingModelsAreUsageErrors() {
        var unknownKey = CliContractTest.run("bench", "decode", "--shape", "dim=64,layers=2,colour=3");
        assertThat(unknownKey.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(unknownKey.err()).contains("colour");
        var neither = CliContractTest.run("bench", "prefill");
        assertThat(neither.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(neither.err()).contains("--model", "--shape");
        var badDtype = CliContractTest.run("bench", "decode", "--shape", TINY, "--dtype", "int3");
        assertThat(badDtype.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(badDtype.err()).contains("dtype");
        var badBackend = CliContractTest.run("bench", "decode", "--shape", TINY, "--backend", "tpu");
        assertThat(badBackend.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(badBackend.err()).contains("backend must be cpu or cuda, got 'tpu'");
        var quantizedOnCuda = CliContractTest.run("bench", "decode", "--shape", TINY, "--backend", "cuda", "--cpu-weights", "q8");
        assertThat(quantizedOnCuda.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(quantizedOnCuda.err()).contains("q8 apply to the CPU backend only");
    }

    @Test
    void benchmarksOnCudaWithoutADriverSayWhy() {
        assumeFalse(Cuda.available(), "a CUDA driver is present: the GPU check runs the CUDA decode benchmark");
        var result = CliContractTest.run("bench", "decode", "--shape", TINY, "--backend", "cuda", "--tokens", "1");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.err()).contains("CUDA unavailable");
        var prefill = CliContractTest.run("bench", "prefill", "--shape", TINY, "--backend", "cuda", "--prompt", "8");
        assertThat(prefill.exitCode()).isNotZero();
        assertThat(prefill.err()).contains("CUDA unavailable");
    }
}
