package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The vector exponential's accuracy over its whole input range, and the elementwise kernels built on VectorMath. */
class VectorMathTest {
    private static final int L = VectorMath.SPECIES.length();

    /** e^x of every x in {@code xs} through the vector kernel (a vector of lanes at a time). */
    private static float[] vectorExp(float[] xs) {
        float[] out = new float[xs.length];
        for (int i = 0; i < xs.length; i += L) VectorMath.exp(FloatVector.fromArray(VectorMath.SPECIES, xs, i)).intoArray(out, i);
        return out;
    }

    /**
     * Every 61st float bit pattern from -104 to +89 (about 34 million inputs, the whole range where e^x is neither 0
     * nor +inf in FP32): error against float64 {@code Math.exp} within 1 ulp (relative 1e-7) wherever the result is
     * normal, and within one subnormal step (2^-149) where it is subnormal; the scalar form gives each lane's bits.
     */
    @Test
    void expIsAccurateOverItsWholeRange() {
        int count = 0, scalarMismatches = 0, missedOverflows = 0;
        double worstRelative = 0, worstSubnormal = 0, worstUlps = 0;
        float[] xs = new float[1 << 16];
        int[][] ranges = {{Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(-104f)},
                {Float.floatToRawIntBits(0f), Float.floatToRawIntBits(89f)}};
        for (int[] range : ranges) {
            for (int bits = range[0]; bits <= range[1]; ) {
                int n = 0;
                for (; n < xs.length && bits <= range[1]; bits += 61) xs[n++] = Float.intBitsToFloat(bits);
                float[] ys = vectorExp(xs);
                for (int i = 0; i < n; i++) {
                    double exact = Math.exp(xs[i]);
                    float y = ys[i];
                    if (Float.floatToRawIntBits(VectorMath.exp(xs[i])) != Float.floatToRawIntBits(y)) scalarMismatches++;
                    if (exact > Float.MAX_VALUE) {
                        if (y != Float.POSITIVE_INFINITY) missedOverflows++;
                    } else if (exact >= Float.MIN_NORMAL) {
                        worstRelative = Math.max(worstRelative, Math.abs(y - exact) / exact);
                        worstUlps = Math.max(worstUlps, Math.abs(y - exact) / Math.ulp((float) exact));
                    } else {
                        worstSubnormal = Math.max(worstSubnormal, Math.abs(y - exact));
                    }
                    count++;
                }
            }
        }
        assertThat(count).isGreaterThan(30_000_000);
        assertThat(scalarMismatches).as("scalar results differing from the vector lanes").isZero();
        assertThat(missedOverflows).as("results above Float.MAX_VALUE not +inf").isZero();
        assertThat(worstRelative).as("max relative error, normal results").isLessThan(1e-7);
        assertThat(worstUlps).as("max error in ulps, normal results").isLessThanOrEqualTo(1.0);
        assertThat(worstSubnormal).as("max absolute error, subnormal results").isLessThanOrEqualTo(0x1p-149);
    }

    @Test
    void expOfSpecialValues() {
        float[] special = {Float.NEGATIVE_INFINITY, -1e30f, -1000f, -104f, -103.9f, 0f, -0f, 1f, 88.7f, 88.73f, 89f, 1000f,
                Float.POSITIVE_INFINITY, Float.NaN, Float.MAX_VALUE, -Float.MAX_VALUE};
        float[] xs = new float[Math.max(2 * L, (special.length + L - 1) / L * L)];  // whole vectors at 4 lanes too
        System.arraycopy(special, 0, xs, 0, special.length);
        float[] ys = vectorExp(xs);
        assertThat(ys[0]).as("e^-inf").isEqualTo(0f);
        assertThat(ys[1]).as("e^-1e30").isEqualTo(0f);
        assertThat(ys[2]).as("e^-1000").isEqualTo(0f);
        assertThat(ys[3]).as("e^-104").isEqualTo(0f);
        assertThat(ys[4]).as("e^-103.9, subnormal").isEqualTo((float) Math.exp(-103.9f));
        assertThat(ys[5]).as("e^0").isEqualTo(1f);
        assertThat(ys[6]).as("e^-0").isEqualTo(1f);
        assertThat(ys[7]).as("e^1").isCloseTo((float) Math.E, org.assertj.core.data.Offset.offset(Math.ulp((float) Math.E)));
        assertThat((double) ys[8]).as("e^88.7").isCloseTo(Math.exp(88.7f), org.assertj.core.data.Percentage.withPercentage(2.4e-5));
        assertThat(ys[9]).as("e^88.73").isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(ys[10]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(ys[11]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(ys[12]).as("e^+inf").isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(ys[13]).as("e^NaN").isNaN();
        assertThat(ys[14]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(ys[15]).isEqualTo(0f);
        for (int i = 0; i < special.length; i++) {
            assertThat(Float.floatToRawIntBits(VectorMath.exp(special[i]))).as("scalar exp(%s)", special[i])
                    .isEqualTo(Float.floatToRawIntBits(ys[i]));
        }
    }

    @Test
    void expOfAnArrayShiftsThenExponentiatesEveryElement() {
        SplittableRandom random = new SplittableRandom(3);
        float[] a = new float[4 * L + 8];
        for (int i = 0; i < a.length; i++) a[i] = (float) (random.nextGaussian() * 20);
        float[] before = a.clone();
        VectorMath.exp(a, 3, 4 * L, 5.5f);
        for (int i = 0; i < a.length; i++) {
            float expected = i >= 3 && i < 3 + 4 * L ? VectorMath.exp(before[i] - 5.5f) : before[i];
            assertThat(a[i]).as("element %d", i).isEqualTo(expected);
        }
    }

    /** silu(g) * u against float64, lengths with and without a vector tail, split over threads; extremes included. */
    @ParameterizedTest(name = "{0} elements")
    @ValueSource(ints = {1, 15, 16, 1000, 200_003})
    void swigluMatchesFloat64(int n) {
        SplittableRandom random = new SplittableRandom(n);
        float[] g = new float[n], u = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (float) (random.nextGaussian() * 6);
            u[i] = (float) random.nextGaussian();
        }
        float[] extremes = {-200f, -90f, -20f, 0f, -0f, 20f, 90f, 200f};
        for (int i = 0; i < Math.min(n, extremes.length); i++) g[i] = extremes[i];
        float[] gate = g.clone();
        try (CpuBackend backend = new CpuBackend(new CpuBackend.Options(3, true))) {
            backend.swiglu(new CpuActivation(gate, 1, n), new CpuActivation(u, 1, n));
        }
        for (int i = 0; i < n; i++) {
            double exact = g[i] / (1 + Math.exp(-(double) g[i])) * u[i];
            assertThat((double) gate[i]).as("silu(%s) * %s", g[i], u[i])
                    .isCloseTo(exact, org.assertj.core.data.Offset.offset(6e-7 * Math.abs(exact) + 1e-30));
        }
    }

    /** RMSNorm, RoPE and row scaling: the scalar formulas bit for bit, with widths that leave a vector tail. */
    @Test
    void normRopeAndScaleGiveTheScalarFormulasBitForBit() {
        SplittableRandom random = new SplittableRandom(11);
        int rows = 3, headDim = 2 * (L + 3), heads = 2, width = heads * headDim, half = headDim / 2;
        float[] x = new float[rows * width], gain = new float[width], cos = new float[rows * half], sin = new float[rows * half];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        for (int i = 0; i < width; i++) gain[i] = (float) random.nextGaussian();
        for (int i = 0; i < cos.length; i++) {
            cos[i] = (float) Math.cos(i * 0.37);
            sin[i] = (float) Math.sin(i * 0.37);
        }
        float[] normed = new float[x.length], expectedNorm = new float[x.length];
        for (int t = 0; t < rows; t++) {
            float s = 1 / (1.5f + t);
            VectorMath.scaleByGain(x, t * width, s, gain, normed, t * width, width);
            for (int i = 0; i < width; i++) expectedNorm[t * width + i] = x[t * width + i] * s * gain[i];
        }
        assertThat(normed).containsExactly(expectedNorm);

        float[] rotated = x.clone(), expectedRope = x.clone();
        for (int t = 0; t < rows; t++) {
            for (int h = 0; h < heads; h++) {
                int base = t * width + h * headDim;
                VectorMath.rotateHalf(rotated, base, half, cos, sin, t * half);
                for (int i = 0; i < half; i++) {
                    float c = cos[t * half + i], s = sin[t * half + i], x0 = x[base + i], x1 = x[base + half + i];
                    expectedRope[base + i] = x0 * c - x1 * s;
                    expectedRope[base + half + i] = x1 * c + x0 * s;
                }
            }
        }
        assertThat(rotated).containsExactly(expectedRope);

        float[] scaled = x.clone(), expectedScale = x.clone();
        VectorMath.scale(scaled, width + 1, width + 2, 0.3f);
        for (int i = width + 1; i < 2 * width + 3; i++) expectedScale[i] *= 0.3f;
        assertThat(scaled).containsExactly(expectedScale);
    }
}
