package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class RmsNormReferenceTest {

    @Test
    void normalisesEachRowByItsRootMeanSquareThenScales() {
        // row 0: mean(9, 16) = 12.5; row 1: mean(0, 4) = 2, with eps 1
        double[] y = RmsNormReference.rmsnorm(new float[] {3, 4, 0, 2}, new float[] {1, -2}, 2, 2, 0.0);
        assertThat(y).containsExactly(new double[] {3 / Math.sqrt(12.5), -8 / Math.sqrt(12.5), 0, -4 / Math.sqrt(2)},
                within(1e-15));
        double[] withEps = RmsNormReference.rmsnorm(new float[] {0, 2}, new float[] {1, 1}, 1, 2, 1.0);
        assertThat(withEps[1]).isCloseTo(2 / Math.sqrt(3), within(1e-15));
    }
}
