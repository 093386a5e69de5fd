package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cuda-kernels/build.sh's spill check can fail: the fixture cuda-kernels/test/spilling spills registers, and the
 * build fails while it is a HOT_KERNEL and succeeds once it is not. Needs nvcc (about 3 s per build); skipped,
 * visibly, without it.
 */
class SpillCheckTest {
    private static final Path ROOT = CudaToolkit.repositoryRoot();
    private static final Path FIXTURE = ROOT.resolve("cuda-kernels/test/spilling");

    record Build(int exitCode, String output) {}

    @BeforeEach
    void needsNvcc() {
        boolean nvcc = CudaToolkit.nvcc().isPresent();
        if (!nvcc) System.err.println("SKIPPED: SpillCheckTest: nvcc not found");
        assumeTrue(nvcc, "nvcc not found: build.sh skips the kernels, so there is no spill check to test");
    }

    @Test
    void aHotKernelThatSpillsFailsTheBuild(@TempDir Path out) throws Exception {
        Build build = build(out, FIXTURE);
        assertThat(build.exitCode()).as(build.output()).isNotZero();
        assertThat(build.output()).contains("HOT_KERNEL spills spills registers");
        assertThat(out.resolve("tramontane.fatbin")).doesNotExist();
    }

    @Test
    void theSameKernelNotMarkedHotBuilds(@TempDir Path kernels, @TempDir Path out) throws Exception {
        String source = Files.readString(FIXTURE.resolve("all_kernels.cu"));
        Files.writeString(kernels.resolve("all_kernels.cu"), source.replace("HOT_KERNEL void", "KERNEL void"));
        Build build = build(out, kernels);
        assertThat(build.exitCode()).as(build.output()).isZero();
        assertThat(build.output()).contains("bytes spill stores").contains("wrote " + out.resolve("tramontane.fatbin"));
        assertThat(out.resolve("tramontane.fatbin")).isNotEmptyFile();
    }

    private static Build build(Path out, Path kernels) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("bash", ROOT.resolve("cuda-kernels/build.sh").toString(),
                out.toString(), kernels.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("build.sh finished").isTrue();
        return new Build(process.exitValue(), output);
    }
}
