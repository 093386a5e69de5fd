package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.tramontane.cuda.Cuda;
import io.tramontane.engine.ModelFactory;
import org.junit.jupiter.api.Test;

/** How the CUDA backend refuses where it cannot run (no GPU needed). */
class CudaBackendTest {
    @Test
    void withoutADriverOpeningFailsWithTheProbesReason() {
        assumeFalse(Cuda.available(), "a CUDA driver is present: CudaBackendOpsTest runs instead");
        assertThatThrownBy(() -> CudaBackend.open(CudaBackend.Options.defaults()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("CUDA unavailable: ")
                .hasMessageContaining(Cuda.probe().reason());
    }

    @Test
    void tensorParallelismIsRefusedBeforeTouchingTheDevice() {
        var options = new ModelFactory.Options(2, 2, 8, 16, false);
        assertThatThrownBy(() -> ModelFactory.cuda(null, options))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one rank");
    }
}
