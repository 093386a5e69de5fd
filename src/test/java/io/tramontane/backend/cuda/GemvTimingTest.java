package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.cuda.GemvTiming.GemvShape;
import org.junit.jupiter.api.Test;

class GemvTimingTest {

    @Test
    void outputsAreJudgedAgainstEachTokensSumOfXAndAnUnwrittenOneFails() {
        GemvShape shape = new GemvShape("t", WeightFormat.E4M3, 2, 3, 4);
        float[] x = {1, 2, 3, 4, -1, -1, 1, 1};  // sums 10 and 0 (judged on the row's norm, 2)
        assertThat(GemvTiming.compare(new float[] {10, 10, 10, 0, 1e-6f, -1e-6f}, x, shape)).isNull();
        assertThat(GemvTiming.compare(new float[] {10, 10, 10, 0, Float.NaN, 0}, x, shape)).isEqualTo("token 1 row 1: NaN vs 0.0");
        assertThat(GemvTiming.compare(new float[] {10, 10.01f, 10, 0, 0, 0}, x, shape)).startsWith("token 0 row 1");
    }

    @Test
    void theShapesAreDevstralSmallsDecodeLinearsAndTheHead() {
        assertThat(GemvTiming.SHAPES).extracting(GemvShape::n).contains(4096, 1024, 5120, 32768, 131072);
        assertThat(GemvTiming.SHAPES).allMatch(s -> s.m() <= LinearKernels.GEMV_MAX_TOKENS);
        assertThat(GemvTiming.SHAPES).anyMatch(s -> s.format() == WeightFormat.BF16);
    }
}
