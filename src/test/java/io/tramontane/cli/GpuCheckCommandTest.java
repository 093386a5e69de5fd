package io.tramontane.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.backend.cuda.CheckResult;
import io.tramontane.backend.cuda.CheckSection;
import io.tramontane.cuda.Cuda;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GpuCheckCommandTest {

    @Test
    void reportsItsStatusInTheExitCodeTheLastLineAndTheJson(@TempDir Path out) throws Exception {
        StringWriter stdout = new StringWriter(), stderr = new StringWriter();
        int code = Main.run(new PrintWriter(stdout, true), new PrintWriter(stderr, true), "gpu-check", "--out", out.toString());

        JsonNode json = new ObjectMapper().readTree(out.resolve("gpu-check.json").toFile());
        String[] lines = stdout.toString().strip().split("\n");
        String last = lines[lines.length - 1];
        if (Cuda.available()) {
            assertThat(code).as(stdout.toString()).isEqualTo(Main.EXIT_OK);
            assertThat(json.get("status").asText()).isEqualTo("passed");
        } else {
            assertThat(code).isEqualTo(GpuCheckCommand.EXIT_SKIPPED);
            assertThat(json.get("status").asText()).isEqualTo("skipped");
            assertThat(json.get("reason").asText()).isEqualTo("no CUDA driver: " + Cuda.probe().reason());
            assertThat(last).startsWith("gpu-check: skipped: no CUDA driver: ").endsWith(out.resolve("gpu-check.json").toString());
        }
        assertThat(json.has("java")).isTrue();
    }

    @Test
    void rowsSayPassSkipOrFail() {
        assertThat(GpuCheckCommand.row(new CheckResult("add", "3x4", 1, true, 0, 1e-6, 2.5, "812 GB/s")))
                .startsWith("add ").endsWith("pass 812 GB/s");
        assertThat(GpuCheckCommand.row(CheckResult.skipped("golden tp2", "all cases", "1 CUDA device(s), 2 needed")))
                .endsWith("skip 1 CUDA device(s), 2 needed");
        assertThat(GpuCheckCommand.row(new CheckResult("add", "3x4", 1, false, 1, 1e-6, 2.5, "element 0")))
                .endsWith("FAIL element 0");
    }

    @Test
    void onlyPicksSectionsByNameAndRejectsAnUnknownOneNamingTheChoices() {
        assertThat(CheckSection.parse(null)).containsExactly(CheckSection.values());
        assertThat(CheckSection.parse(" Golden,devstral ")).containsExactly(CheckSection.GOLDEN, CheckSection.DEVSTRAL);

        StringWriter stdout = new StringWriter(), stderr = new StringWriter();
        int code = Main.run(new PrintWriter(stdout, true), new PrintWriter(stderr, true), "gpu-check", "--only", "ops,gemms");
        assertThat(code).isEqualTo(Main.EXIT_USAGE);
        assertThat(stderr.toString()).contains("--only: unknown section 'gemms'").contains("ops,attention,gemm");
    }

    @Test
    void isListedInTheHelp() {
        StringWriter stdout = new StringWriter();
        Main.run(new PrintWriter(stdout, true), new PrintWriter(new StringWriter(), true), "--help");
        assertThat(stdout.toString()).contains("gpu-check");
    }
}
