package io.tramontane.model;

/**
 * Rotary position embedding frequencies (plain or YaRN) and the per-token cos/sin tables the
 * backends apply in rotate-half form. Frequencies and angles are computed in double (MODELS.md 5.4):
 * an FP32 angle at position 262k can be off by 0.016 rad. The YaRN attention factor is folded into
 * cos and sin, so it scales both q and k (scores grow by its square), as the reference defines it.
 */
public final class Rope {
    private final double[] inverseFrequencies;  // [headDim / 2]
    private final float magnitude;

    public Rope(ModelConfig config) {
        int half = config.headDim() / 2;
        this.inverseFrequencies = new double[half];
        ModelConfig.Yarn yarn = config.yarn();
        double theta = config.ropeTheta(), d = config.headDim();
        double low = 0, high = 0;
        if (yarn != null) {
            low = Math.max(Math.floor(correctionDim(yarn.betaFast(), d, theta, yarn.originalMaxPositions())), 0);
            high = Math.min(Math.ceil(correctionDim(yarn.betaSlow(), d, theta, yarn.originalMaxPositions())), d - 1);
            if (low == high) high += 0.001;
        }
        for (int i = 0; i < half; i++) {
            double extrapolated = Math.pow(theta, -2.0 * i / d);
            if (yarn == null) {
                inverseFrequencies[i] = extrapolated;
            } else {
                double ramp = Math.clamp((i - low) / (high - low), 0.0, 1.0);
                inverseFrequencies[i] = extrapolated / yarn.factor() * ramp + extrapolated * (1 - ramp);
            }
        }
        this.magnitude = yarn == null ? 1f : (float) yarn.attentionFactor();
    }

    /** The dimension index at which a frequency makes {@code turns} rotations over the original context. */
    private static double correctionDim(double turns, double d, double theta, int originalMaxPositions) {
        return d * Math.log(originalMaxPositions / (2 * Math.PI * turns)) / (2 * Math.log(theta));
    }

    public int halfDim() {
        return inverseFrequencies.length;
    }

    public double inverseFrequency(int i) {
        return inverseFrequencies[i];
    }

    /** Fills {@code cos} and {@code sin} ([positions.length * halfDim]) for the given absolute positions. */
    public void angles(int[] positions, float[] cos, float[] sin) {
        int half = halfDim();
        for (int t = 0; t < positions.length; t++) {
            for (int i = 0; i < half; i++) {
                double angle = positions[t] * inverseFrequencies[i];
                cos[t * half + i] = (float) Math.cos(angle) * magnitude;
                sin[t * half + i] = (float) Math.sin(angle) * magnitude;
            }
        }
    }
}
