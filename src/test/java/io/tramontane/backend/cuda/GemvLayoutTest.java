package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GemvLayoutTest {

    @Test
    void layoutsAreNamedByTheirShapeAndChosenByWidthFromTheProperty() {
        assertThat(GemvLayout.PRODUCTION.name()).isEqualTo("r4c1s4");
        assertThat(GemvLayoutChoice.parse("r8c1s2").fallback()).isEqualTo(GemvLayout.ALTERNATIVES.get(2));
        assertThat(GemvLayoutChoice.parse("r4c1s4").fallback()).isSameAs(GemvLayout.PRODUCTION);
        GemvLayoutChoice mixed = GemvLayoutChoice.parse(DevstralChecks.MIXED_LAYOUTS);
        assertThat(mixed.forWidth(5120)).isSameAs(GemvLayout.PRODUCTION);
        assertThat(mixed.forWidth(4096).name()).isEqualTo("r2c2s2");
        assertThat(mixed.forWidth(32768).name()).isEqualTo("r2c2s2");
        assertThat(mixed.layouts()).extracting(GemvLayout::name).containsExactly("r4c1s4", "r2c2s2");
        assertThat(GemvLayoutChoice.parse(" r2c2s2 , 32768=r4c1s3,4096=r8c1s2").spec()).isEqualTo("r2c2s2,4096=r8c1s2,32768=r4c1s3");
        assertThatThrownBy(() -> GemvLayoutChoice.parse("r3c1s1")).hasMessageContaining("TRAMONTANE_GEMV_LAYOUT")
                .hasMessageContaining("[r4c1s4, r2c2s2, r4c1s3, r8c1s2]").hasMessageContaining("'r3c1s1'");
        assertThatThrownBy(() -> GemvLayoutChoice.parse("r4c1s4,4096")).hasMessageContaining("'4096' is not WIDTH=LAYOUT");
        assertThatThrownBy(() -> GemvLayoutChoice.parse("r4c1s4,")).hasMessageContaining("'' is not WIDTH=LAYOUT");
        assertThatThrownBy(() -> GemvLayoutChoice.parse("r4c1s4,-2=r2c2s2")).hasMessageContaining("positive width");
        assertThatThrownBy(() -> GemvLayoutChoice.parse("r4c1s4,64=r2c2s2,64=r8c1s2")).hasMessageContaining("width 64 is named twice");
        assertThat(GemvLayoutChoice.PRODUCTION.forWidth(4096)).isSameAs(GemvLayout.PRODUCTION);
        String previous = System.setProperty(GemvLayoutChoice.PROPERTY, "r2c2s2");
        try {
            assertThat(GemvLayoutChoice.configured().fallback().name()).isEqualTo("r2c2s2");
        } finally {
            if (previous == null) System.clearProperty(GemvLayoutChoice.PROPERTY);
            else System.setProperty(GemvLayoutChoice.PROPERTY, previous);
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
