package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GemvLayoutTest {

    @Test
    void layoutsAreNamedByTheirShapeAndPickedByProperty() {
        assertThat(GemvLayout.PRODUCTION.name()).isEqualTo("r4c1s4");
        assertThat(GemvLayout.named("r8c1s2")).isEqualTo(GemvLayout.ALTERNATIVES.get(2));
        assertThat(GemvLayout.named("r4c1s4")).isSameAs(GemvLayout.PRODUCTION);
        assertThatThrownBy(() -> GemvLayout.named("r3c1s1")).hasMessageContaining("TRAMONTANE_GEMV_LAYOUT")
                .hasMessageContaining("[r4c1s4, r2c2s2, r4c1s3, r8c1s2]").hasMessageContaining("'r3c1s1'");
        String previous = System.setProperty(GemvLayout.PROPERTY, "r2c2s2");
        try {
            assertThat(GemvLayout.configured().name()).isEqualTo("r2c2s2");
        } finally {
            if (previous == null) System.clearProperty(GemvLayout.PROPERTY);
            else System.setProperty(GemvLayout.PROPERTY, previous);
        }
    }

    /** Every layout's e4m3 and BF16 kernels exist in linear.cu with its ring shape and launch bounds (and F32's production one). */
    @Test
    void everyLayoutHasItsKernelsInLinearCu() throws Exception {
        String source = Files.readString(CudaToolkit.repositoryRoot().resolve("cuda-kernels/linear.cu"));
        String core = Files.readString(CudaToolkit.repositoryRoot().resolve("cuda-kernels/linear_core.cuh"));
        assertThat(core).contains("using Production = Layout<4, 1, 4>;");
        for (GemvLayout layout : GemvLayout.all()) {
            for (WeightFormat f : layout == GemvLayout.PRODUCTION ? List.of(WeightFormat.values()) : List.of(WeightFormat.E4M3, WeightFormat.BF16)) {
                String shape = layout == GemvLayout.PRODUCTION ? "Production"
                        : "lin::Layout<" + layout.rowsPerWarp() + ", " + layout.chunks() + ", " + layout.stages() + ">";
                Pattern kernel = Pattern.compile("HOT_KERNEL void __launch_bounds__\\(lin::GEMV_THREADS, " + layout.blocksPerSm() + "\\) "
                        + layout.kernel(f) + "\\([^{]*\\{\\s*lin::gemv<[a-z0-9_]+, " + Pattern.quote(shape) + ", LinearDeviceOps>");
                assertThat(kernel.matcher(source).find()).as("%s in linear.cu", layout.kernel(f)).isTrue();
            }
        }
    }
}
