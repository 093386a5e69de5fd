package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.tramontane.cuda.Cuda;
import io.tramontane.engine.ModelFactory;
import io.tramontane.model.TestModels;
import io.tramontane.weights.ModelWeights;
import org.junit.jupiter.api.Test;

/** How the CUDA backend refuses where it cannot run (no GPU needed). */
class CudaBackendTest {
    private static final ModelWeights SIX_HEADS = TestModels.random(TestModels.dense(48, 1, 6, 2, 8, 64, 40), 7);

    @Test
    void withoutADriverOpeningFailsWithTheProbesReason() {
        assumeFalse(Cuda.available(), "a CUDA driver is present: CudaBackendOpsTest runs instead");
        assertThatThrownBy(() -> CudaBackend.open(CudaBackend.Options.defaults()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("CUDA unavailable: ")
                .hasMessageContaining(Cuda.probe().reason());
    }

    @Test
    void withoutADriverATensorParallelGroupFailsWithTheProbesReason() {
        assumeFalse(Cuda.available(), "a CUDA driver is present: the GPU check runs tensor parallelism instead");
        assertThatThrownBy(() -> ModelFactory.cuda(SIX_HEADS, new ModelFactory.Options(2, 2, 8, 16, false)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("CUDA unavailable: ");
    }

    @Test
    void anUnsplittableModelIsRefusedBeforeTouchingTheDevice() {
        assertThatThrownBy(() -> ModelFactory.cuda(SIX_HEADS, new ModelFactory.Options(4, 4, 8, 16, false)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tensor parallelism 4 must divide n_heads 6");
    }
}
