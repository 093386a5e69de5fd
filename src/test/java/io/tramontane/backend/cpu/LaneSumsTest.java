package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The register folds give every accumulator the bits of the order {@link DotKernels} defines, done in scalars. */
class LaneSumsTest {
    private static final int L = DotKernels.F.length();

    /** c0 + c1 lane by lane, then the stored-lanes butterfly. */
    private static float reference(float[] lanes, int c0, int c1) {
        float[] combined = new float[L];
        for (int i = 0; i < L; i++) combined[i] = lanes[c0 + i] + lanes[c1 + i];
        return VectorMath.sumLanes(combined, 0);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 42, 1234567})
    void foldsEqualTheScalarOrderBitForBit(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] lanes = new float[DotKernels.LANES];
        // magnitudes over many octaves, so any other pairing order would round differently
        for (int i = 0; i < lanes.length; i++) lanes[i] = (float) (random.nextGaussian() * Math.scalb(1.0, random.nextInt(-20, 21)));
        float[] original = lanes.clone(), sums = new float[LaneSums.TILE_SUMS];
        assertThat(LaneSums.sum1(lanes)).as("one row's two chains").isEqualTo(reference(original, 0, L));
        LaneSums.sums16(lanes, sums);
        for (int k = 0; k < 16; k++) {
            assertThat(sums[k]).as("accumulator %d over two chains", k).isEqualTo(reference(original, k * L, (16 + k) * L));
        }
        for (int count : new int[] {20, 24}) {  // a five-row and a six-row tile's two passes, from lanes[0] and further on
            for (int from : new int[] {0, 5}) {
                lanes = new float[from + original.length];
                System.arraycopy(original, 0, lanes, from, original.length);
                java.util.Arrays.fill(sums, Float.NaN);
                LaneSums.tileSums(lanes, from, count, sums);
                for (int k = 0; k < count; k++) {
                    assertThat(sums[k]).as("tile accumulator %d of %d over two chains from %d", k, count, from)
                            .isEqualTo(reference(original, k * L, (24 + k) * L));
                }
            }
        }
    }
}
