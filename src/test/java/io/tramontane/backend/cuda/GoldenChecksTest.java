package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.engine.ModelFactory;
import io.tramontane.testing.SharedFixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The golden runner of gpu-check, proven on the CPU backend (which GoldenModelsTest holds to the same bounds). */
class GoldenChecksTest {
    @Test
    void theCpuBackendPassesTheSmallCasesThroughTheRunner() {
        var golden = SharedFixtures.resolve("golden");
        List<CheckResult> results = GoldenChecks.run(golden, List.of("dense_f32_layouts", "fp8_native_small",
                "moe_4x2_layouts"), ModelFactory::cpu);
        assertThat(results).extracting(CheckResult::shape).contains("dense_f32_layouts/native", "dense_f32_layouts/hf",
                "fp8_native_small", "moe_4x2_layouts/hf");
        assertThat(results).filteredOn(r -> r.check().equals("golden w8a8")).hasSize(1);
        results.forEach(r -> assertThat(r.passed()).as("%s", r).isTrue());
    }
}
