package io.tramontane.weights;

/**
 * The row order that presents native (interleaved-pair) q/k weights in the canonical rotate-half order
 * (MODELS.md 2.5): canonical row {@code h*D + t} is native row {@code h*D + 2*(t mod D/2) + floor(t / (D/2))}.
 */
public final class RopePermutation {
    private RopePermutation() {}

    /** {@code order[canonicalRow] = nativeRow} for {@code heads} heads of {@code headDim} rows. */
    public static int[] nativeToRotateHalf(int heads, int headDim) {
        int half = headDim / 2;
        int[] order = new int[Math.multiplyExact(heads, headDim)];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < headDim; t++) {
                order[h * headDim + t] = h * headDim + 2 * (t % half) + t / half;
            }
        }
        return order;
    }
}
