package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.cuda.GemmChecks.GemmShape;
import io.tramontane.backend.cuda.GemmChecks.Mode;
import io.tramontane.weights.Floats;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensor-core linear's references (no GPU needed) and, with a driver on a compute capability 9.0 device, every
 * {@link GemmChecks} shape; skipped, with the reason, elsewhere.
 */
class GemmChecksTest {
    private static DeviceFixture device;

    @BeforeAll
    static void open() {
        device = DeviceFixture.open("GemmChecksTest",
                backend -> backend.hasTensorCoreGemm() ? null : "the device is not compute capability 9.0 (no wgmma kernel)");
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static List<GemmShape> shapes() {
        return GemmChecks.SHAPES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void tensorCoreLinearMatchesTheCpu(GemmShape shape) {
        CheckResult result = new GemmChecks(device.checks()).linear(shape, KernelChecks.seed());
        assertThat(result.passed()).as("%s", result).isTrue();
    }

    @Test
    void perTokenReferenceMapsEachRowsLargestElementTo448() {
        float[] x = {1, -0.5f, 0.25f, 0.001f, /* row 2 */ 0, 0, 0, 0, /* row 3 */ 10, 3, -7, 0.1f};
        float[] q = GemmChecks.multiplied(Mode.FP8_PER_TOKEN, x, 3, 4);
        assertThat(q[0]).isEqualTo(1f);
        assertThat(q[1]).isEqualTo(-0.5f);
        assertThat(q[4]).isZero();
        assertThat(q[8]).isEqualTo(10f);
        float scale = 10f / 448f;
        assertThat(q[9]).isEqualTo(Floats.e4m3ToFloat(Floats.floatToE4m3(3 / scale)) * scale);
        assertThat(Math.abs(q[9] - 3) / 3.0).isLessThanOrEqualTo(1.0 / 16);  // e4m3: 3 mantissa bits
    }

    @Test
    void bf16ReferenceRoundsAndStaticW8a8LeavesTheInputToTheCpu() {
        float[] x = {1.00390625f, 3.14159f};
        assertThat(GemmChecks.multiplied(Mode.BF16, x, 1, 2)).containsExactly(1f, 3.140625f);
        assertThat(GemmChecks.multiplied(Mode.FP8_STATIC, x, 1, 2)).containsExactly(x);
    }

    @Test
    void timingShapesAreDevstralSmallPrefills() {
        assertThat(GemmChecks.TIMING_SHAPES).allMatch(s -> s.m() >= 2048 && (s.n() == 5120 || s.k() == 5120));
        assertThat(GemmChecks.SHAPES).anyMatch(s -> s.n() % 2 == 1).anyMatch(s -> s.k() < 64).allMatch(s -> s.m() > 8);
    }
}
