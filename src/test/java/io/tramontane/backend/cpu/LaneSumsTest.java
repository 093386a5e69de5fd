package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The register folds give every accumulator the bits of the stored-lanes butterfly they replace. */
class LaneSumsTest {
    private static final int L = DotKernels.F.length();

    private static FloatVector[] accumulators(SplittableRandom random, int count) {
        FloatVector[] v = new FloatVector[count];
        for (int a = 0; a < count; a++) {
            float[] lanes = new float[L];
            // magnitudes over many octaves, so any other pairing order would round differently
            for (int i = 0; i < L; i++) lanes[i] = (float) (random.nextGaussian() * Math.scalb(1.0, random.nextInt(-20, 21)));
            v[a] = FloatVector.fromArray(DotKernels.F, lanes, 0);
        }
        return v;
    }

    private static float butterfly(FloatVector v) {
        float[] lanes = v.toArray();
        return VectorMath.sumLanes(lanes, 0);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 42, 1234567})
    void foldsEqualTheButterflyBitForBit(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        FloatVector[] c = accumulators(random, 16);
        float[] lanes = new float[16 * L], sums = new float[16];
        for (int a = 0; a < 16; a++) c[a].intoArray(lanes, a * L);
        LaneSums.sums16(lanes, sums);
        for (int a = 0; a < 16; a++) {
            assertThat(sums[a]).as("accumulator %d of 16", a).isEqualTo(butterfly(c[a]));
            assertThat(VectorMath.sumLanes(c[a])).as("vector butterfly %d", a).isEqualTo(butterfly(c[a]));
        }

        float[] four = {Float.NaN, Float.NaN, Float.NaN, Float.NaN, 7f, 7f};
        LaneSums.sums4(lanes, four);
        for (int a = 0; a < 4; a++) assertThat(four[a]).as("accumulator %d of 4", a).isEqualTo(butterfly(c[a]));
        assertThat(four[4]).as("sums4 writes four floats only").isEqualTo(7f);
    }
}
