package io.tramontane.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Vector API inner loops over float arrays. */
final class VectorMath {
    /** The machine's preferred float vectors, kept within 4..16 lanes (the widths {@link LaneSums} folds). */
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED.length() > 16 ? FloatVector.SPECIES_512
            : FloatVector.SPECIES_PREFERRED.length() < 4 ? FloatVector.SPECIES_128 : FloatVector.SPECIES_PREFERRED;

    private VectorMath() {}

    /** The int lanes of a {@link #SPECIES} vector's bits. */
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, SPECIES.vectorShape());
    /** Butterfly partners: lane i with lane i ^ step, for step = L/2, L/4, ..., 1. */
    private static final VectorShuffle<Float>[] BUTTERFLY = butterfly();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] butterfly() {
        int steps = Integer.numberOfTrailingZeros(SPECIES.length());
        VectorShuffle<Float>[] shuffles = new VectorShuffle[steps];
        for (int s = 0; s < steps; s++) {
            int step = SPECIES.length() >> (s + 1);
            shuffles[s] = VectorShuffle.fromOp(SPECIES, i -> i ^ step);
        }
        return shuffles;
    }

    /**
     * The lanes of {@code v} summed by a fixed butterfly of vector adds. Not {@code reduceLanes(ADD)}: its order
     * is unspecified and differs between the interpreter and the JIT tiers, which would make results depend
     * on warm-up. Every add here is an exact IEEE lane-wise operation, so every tier gets the same bits.
     */
    static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> partners : BUTTERFLY) v = v.add(v.rearrange(partners));
        return v.lane(0);
    }

    /**
     * The same butterfly as {@link #sumLanes(FloatVector)}, over lanes already stored at {@code lanes[offset ..
     * offset + L)} (clobbered). Large kernels store their accumulators and reduce here: a vector handed to a
     * call that C2 declines to inline is boxed, which cost the 4x4 tiles half their speed.
     */
    static float sumLanes(float[] lanes, int offset) {
        for (int step = SPECIES.length() / 2; step >= 1; step /= 2) {
            for (int i = 0; i < step; i++) lanes[offset + i] += lanes[offset + i + step];
        }
        return lanes[offset];
    }

    /** {@code sum_i a[aOffset + i] * b[bOffset + i]} for {@code i < n}. */
    static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += SPECIES.length()) {
            acc = FloatVector.fromArray(SPECIES, a, aOffset + i).fma(FloatVector.fromArray(SPECIES, b, bOffset + i), acc);
        }
        float sum = sumLanes(acc);
        for (; i < n; i++) sum += a[aOffset + i] * b[bOffset + i];
        return sum;
    }

    /** {@code y[yOffset + i] += alpha * x[xOffset + i]} for {@code i < n}. */
    static void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
        FloatVector a = FloatVector.broadcast(SPECIES, alpha);
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, x, xOffset + i).fma(a, FloatVector.fromArray(SPECIES, y, yOffset + i))
                    .intoArray(y, yOffset + i);
        }
        for (; i < n; i++) y[yOffset + i] += alpha * x[xOffset + i];
    }

    // e^x = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2]
    private static final float EXP_LOW = -104f;   // e^-104 < 2^-150: rounds to 0 like everything below
    private static final float EXP_HIGH = 89f;    // e^89 > Float.MAX_VALUE: overflows to +inf like everything above
    private static final float LOG2E = (float) (1 / Math.log(2));
    /** ln 2 with its low 12 bits cleared, so {@code n * LN2_HI} is exact for |n| < 2^12; the rest in LN2_LO. */
    private static final float LN2_HI = Float.intBitsToFloat(Float.floatToRawIntBits((float) Math.log(2)) & 0xFFFFF000);
    private static final float LN2_LO = (float) (Math.log(2) - LN2_HI);
    /** 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low mantissa bits. */
    private static final float ROUNDER = 0x1.8p23f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    // Taylor coefficients 1/k! of e^r up to r^7: truncation below 8e-9 relative on |r| <= ln2/2
    private static final float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720, C7 = 1f / 5040;

    /**
     * {@code e^x} lane-wise, within 1 ulp wherever the result is a normal float ({@code x} in [-87.33, 88.72]; the
     * largest relative error over every third float of that range is 7.9e-8, 0.93 ulp, at x = -71.05); below, the
     * result is rounded once into the subnormals (within one step, 2^-149) and is 0 from -103.98 down to -inf; above
     * 88.72 it is +inf; NaN stays NaN; {@code exp(0) == 1} exactly. Range reduction by {@code n = round(x log2 e)} with a two-part ln 2, a degree-7 Taylor polynomial on
     * |r| <= ln2/2, and {@code 2^n} applied as two exact power-of-two factors so that subnormal results round once.
     * Every step is an exact IEEE lane-wise operation: the interpreter and every JIT tier give the same bits, and
     * {@link #exp(float)} gives each lane's bits for a scalar.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(EXP_LOW).min(EXP_HIGH);  // NaN stays NaN through max and min
        FloatVector t = c.fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(SPECIES, -LN2_HI), c);
        r = n.fma(FloatVector.broadcast(SPECIES, -LN2_LO), r);
        FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        FloatVector p = r.fma(C7, C6).fma(r, FloatVector.broadcast(SPECIES, C5)).fma(r, FloatVector.broadcast(SPECIES, C4))
                .fma(r, FloatVector.broadcast(SPECIES, C3)).fma(r, FloatVector.broadcast(SPECIES, C2)).fma(r, one).fma(r, one);
        IntVector k = ((IntVector) t.reinterpretShape(INTS, 0)).sub(ROUNDER_BITS);
        IntVector k1 = k.lanewise(VectorOperators.ASHR, 1), k2 = k.sub(k1);
        FloatVector s1 = ((FloatVector) k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretShape(SPECIES, 0));
        FloatVector s2 = ((FloatVector) k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretShape(SPECIES, 0));
        return p.mul(s1).mul(s2);
    }

    /**
     * {@code a[offset + i] = e^(a[offset + i] - shift)} for {@code i < n}, a multiple of the vector length. Kernels
     * call this rather than {@link #exp(FloatVector)}: it keeps vectors out of calls that C2 may not inline.
     */
    static void exp(float[] a, int offset, int n, float shift) {
        for (int i = 0; i < n; i += SPECIES.length()) {
            exp(FloatVector.fromArray(SPECIES, a, offset + i).sub(shift)).intoArray(a, offset + i);
        }
    }

    /** {@link #exp(FloatVector)} of one float: the same operations, so the same bits as any lane. */
    static float exp(float x) {
        float c = Math.min(Math.max(x, EXP_LOW), EXP_HIGH);
        float t = Math.fma(c, LOG2E, ROUNDER);
        float n = t - ROUNDER;
        float r = Math.fma(n, -LN2_HI, c);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, C7, C6), r, C5), r, C4), r, C3), r,
                C2), r, 1f), r, 1f);
        int k = Float.floatToRawIntBits(t) - ROUNDER_BITS, k1 = k >> 1, k2 = k - k1;
        return p * Float.intBitsToFloat((k1 + 127) << 23) * Float.intBitsToFloat((k2 + 127) << 23);
    }

    /**
     * {@code g[i] = g[i] / (1 + e^-g[i]) * u[i]} (SwiGLU: silu of the gate times the up projection) for
     * {@code i in [from, to)}. The tail runs masked through the same lane operations, so an element's bits never
     * depend on where a range happens to end.
     */
    static void swiglu(float[] g, float[] u, int from, int to) {
        int i = from;
        for (int bound = from + SPECIES.loopBound(to - from); i < bound; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromArray(SPECIES, g, i);
            x.div(exp(x.neg()).add(1f)).mul(FloatVector.fromArray(SPECIES, u, i)).intoArray(g, i);
        }
        if (i < to) {
            VectorMask<Float> tail = SPECIES.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(SPECIES, g, i, tail);
            x.div(exp(x.neg()).add(1f)).mul(FloatVector.fromArray(SPECIES, u, i, tail)).intoArray(g, i, tail);
        }
    }

    /** {@code out[o + i] = x[xOffset + i] * s * g[i]} for {@code i < n} (RMSNorm's scaling, in that order). */
    static void scaleByGain(float[] x, int xOffset, float s, float[] g, float[] out, int o, int n) {
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, x, xOffset + i).mul(s).mul(FloatVector.fromArray(SPECIES, g, i))
                    .intoArray(out, o + i);
        }
        for (; i < n; i++) out[o + i] = x[xOffset + i] * s * g[i];
    }

    /** {@code x[offset + i] *= s} for {@code i < n}. */
    static void scale(float[] x, int offset, int n, float s) {
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, x, offset + i).mul(s).intoArray(x, offset + i);
        }
        for (; i < n; i++) x[offset + i] *= s;
    }

    /**
     * Rotate-half RoPE of one head at {@code x[base ..]}: pair {@code (i, i + half)} rotated by {@code
     * cos/sin[angles + i]}, {@code (x0 c - x1 s, x1 c + x0 s)}.
     */
    static void rotateHalf(float[] x, int base, int half, float[] cos, float[] sin, int angles) {
        int i = 0;
        for (int bound = SPECIES.loopBound(half); i < bound; i += SPECIES.length()) {
            FloatVector c = FloatVector.fromArray(SPECIES, cos, angles + i), s = FloatVector.fromArray(SPECIES, sin, angles + i);
            FloatVector x0 = FloatVector.fromArray(SPECIES, x, base + i), x1 = FloatVector.fromArray(SPECIES, x, base + half + i);
            x0.mul(c).sub(x1.mul(s)).intoArray(x, base + i);
            x1.mul(c).add(x0.mul(s)).intoArray(x, base + half + i);
        }
        for (; i < half; i++) {
            float c = cos[angles + i], s = sin[angles + i], x0 = x[base + i], x1 = x[base + half + i];
            x[base + i] = x0 * c - x1 * s;
            x[base + half + i] = x1 * c + x0 * s;
        }
    }
}
