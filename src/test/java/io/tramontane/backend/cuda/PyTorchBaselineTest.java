package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The PyTorch timings' plumbing: the script runs wherever python3 does, and its answers are read as they come. */
class PyTorchBaselineTest {

    @Test
    void theShippedScriptAnswersOnThisMachine() {
        PyTorchBaseline result = PyTorchBaseline.measure(List.of(new PyTorchBaseline.Shape("fp8", 32, 48, 64)));
        // here: no python3 or no torch or no GPU, each a reason; on a GPU machine with torch, a timing
        if (result.available()) {
            assertThat(result.micros("fp8", 32, 48, 64).isPresent() || !result.errors().isEmpty()).isTrue();
        } else {
            assertThat(result.description()).matches("no torch: .*|torch .* sees no CUDA device|cannot run python3: .*");
        }
    }

    @Test
    void timingsAndErrorsAreKeyedByShape() {
        // the JSON is the last line; anything a library printed before it is ignored
        PyTorchBaseline result = PyTorchBaseline.parse("a warning\n"
                + "{\"torch\": \"2.9.0+cu130\", \"device\": \"NVIDIA H100\", \"results\": ["
                + "{\"precision\": \"fp8\", \"m\": 2048, \"n\": 4096, \"k\": 5120, \"us\": 101.5}, "
                + "{\"precision\": \"bf16\", \"m\": 2048, \"n\": 4096, \"k\": 5120, \"error\": \"RuntimeError: no kernel\"}]}\n");
        assertThat(result.available()).isTrue();
        assertThat(result.description()).isEqualTo("torch 2.9.0+cu130 on NVIDIA H100");
        assertThat(result.micros("fp8", 2048, 4096, 5120)).contains(101.5);
        assertThat(result.micros("bf16", 2048, 4096, 5120)).isEmpty();
        assertThat(GemmBaselineChecks.pytorchNote(result, "fp8", 2048, 4096, 5120, 203))
                .isEqualTo("; PyTorch 101.5 us, ours/PyTorch 0.50");
        assertThat(GemmBaselineChecks.pytorchNote(result, "bf16", 2048, 4096, 5120, 203))
                .isEqualTo("; PyTorch: RuntimeError: no kernel");
    }

    @Test
    void whatCannotBeMeasuredSaysWhy() {
        assertThat(PyTorchBaseline.parse("{\"unavailable\": \"no torch: No module named 'torch'\"}").description())
                .isEqualTo("no torch: No module named 'torch'");
        assertThat(PyTorchBaseline.parse("Traceback ...").description()).startsWith("unreadable output");
        assertThat(PyTorchBaseline.run(List.of("/nonexistent/python3"), 5).description()).startsWith("cannot run python3: ");
        assertThat(PyTorchBaseline.run(List.of("sh", "-c", "exit 3"), 5).description()).isEqualTo("python3 exited with 3");
        assertThat(PyTorchBaseline.run(List.of("sleep", "5"), 1).description()).isEqualTo("python3 took over 1 s");
        var missing = PyTorchBaseline.unavailable("no torch: x");
        assertThat(GemmBaselineChecks.pytorchNote(missing, "fp8", 1, 2, 3, 4)).isEmpty();
        assertThat(GemmBaselineChecks.pytorchRow(missing).detail()).isEqualTo("skipped: no torch: x");
        assertThat(GemmBaselineChecks.pytorchRow(missing).passed()).isTrue();
    }

    @Test
    void everyBaselineShapeIsAskedOnce() {
        assertThat(GemmBaselineChecks.pytorchShapes()).hasSize(2 * 5 * 2).doesNotHaveDuplicates()
                .contains(new PyTorchBaseline.Shape("fp8", 4096, 32768, 5120), new PyTorchBaseline.Shape("bf16", 2048, 5120, 32768));
    }
}
