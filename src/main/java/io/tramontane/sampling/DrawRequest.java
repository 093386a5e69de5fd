package io.tramontane.sampling;

/**
 * One row of a backend's sampling op: the sequence's filters and the uniform number its own seeded random stream gave
 * for this step, so every backend picks the same token ({@link TokenDraw}) and the stream advances the same way
 * whichever backend draws.
 *
 * @param temperature 0 means greedy (argmax, lowest id on ties); the uniform number is then unused
 * @param topK        0 disables
 * @param topP        1 disables
 * @param minP        0 disables
 * @param uniform     in [0, 1)
 */
public record DrawRequest(double temperature, int topK, double topP, double minP, double uniform) {
    public DrawRequest {
        check(temperature >= 0 && temperature < Double.POSITIVE_INFINITY, "temperature", temperature, "finite and >= 0");
        check(topK >= 0, "top_k", topK, ">= 0 (0 disables)");
        check(topP > 0 && topP <= 1, "top_p", topP, "in (0, 1]");
        check(minP >= 0 && minP <= 1, "min_p", minP, "in [0, 1]");
        check(uniform >= 0 && uniform < 1, "uniform", uniform, "in [0, 1)");
    }

    /** Argmax. */
    public static DrawRequest greedy() {
        return new DrawRequest(0, 0, 1, 0, 0);
    }

    private static void check(boolean ok, String name, Object value, String expected) {
        if (!ok) throw new IllegalArgumentException("draw " + name + " must be " + expected + ", got " + value);
    }
}
