package io.tramontane.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RopePermutationTest {

    /** Property: the view order inverts the HF conversion (native h*D + 2i + j goes to HF h*D + j*D/2 + i). */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void invertsTheHfConversion(long seed) {
        Random random = new Random(seed);
        int heads = 1 + random.nextInt(12), headDim = 2 * (1 + random.nextInt(64));
        int[] order = RopePermutation.nativeToRotateHalf(heads, headDim);
        int[] hfRowOfNative = new int[heads * headDim];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < headDim / 2; i++) {
                for (int j = 0; j < 2; j++) hfRowOfNative[h * headDim + 2 * i + j] = h * headDim + j * headDim / 2 + i;
            }
        }
        for (int hfRow = 0; hfRow < order.length; hfRow++) assertThat(hfRowOfNative[order[hfRow]]).isEqualTo(hfRow);
    }
}
