package io.tramontane.weights;

/** Exact decoders (and the round-to-nearest-even encoders the engine needs) for the narrow float formats. */
public final class Floats {
    private Floats() {}

    /** FP8 e4m3fn: bias 7, no infinities, NaN only at 0x7F/0xFF, max 448 (MODELS.md 4.1). */
    private static final float[] E4M3 = new float[256];
    /** FP8 e5m2: IEEE-like, bias 15. */
    private static final float[] E5M2 = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            int sign = (b & 0x80) != 0 ? -1 : 1;
            int e = (b >> 3) & 0xF, m = b & 7;
            float v;
            if (e == 15 && m == 7) v = Float.NaN;
            else if (e == 0) v = sign * (float) Math.scalb(m / 8.0, -6);
            else v = sign * (float) Math.scalb(1 + m / 8.0, e - 7);
            E4M3[b] = v;
            E5M2[b] = f16ToFloat((short) (b << 8));
        }
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Round to nearest even (NaN stays NaN). */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static float e4m3ToFloat(byte bits) {
        return E4M3[bits & 0xFF];
    }

    public static float e5m2ToFloat(byte bits) {
        return E5M2[bits & 0xFF];
    }

    /**
     * Encodes to e4m3fn with round-to-nearest-even after clamping to ±448 (how static activation
     * quantization is defined, MODELS.md 4.3). NaN maps to 0x7F.
     */
    public static byte floatToE4m3(float f) {
        if (Float.isNaN(f)) return 0x7F;
        int sign = f < 0 || (f == 0 && 1 / f < 0) ? 0x80 : 0;
        float a = Math.min(Math.abs(f), 448f);
        if (a == 0) return (byte) sign;
        // the spacing of representable values around a: 2^(e-3) for normals (e >= -6), 2^-9 for subnormals
        int exp = Math.max(Math.getExponent(a), -6);
        float quantum = Math.scalb(1f, exp - 3);
        float q = (float) Math.rint(a / quantum) * quantum;  // rint rounds half to even
        int e = Math.getExponent(q);
        int bits;
        if (q < 0x1p-6f) {
            bits = (int) (q / 0x1p-9f);  // subnormal: m / 8 * 2^-6
        } else {
            bits = ((e + 7) << 3) | (int) ((q / Math.scalb(1f, e) - 1) * 8);
        }
        return (byte) (sign | bits);
    }
}
