package io.tramontane.backend.cuda;

/** RMSNorm in float64: what the FP32 kernel is compared against. */
final class RmsNormReference {
    private RmsNormReference() {}

    /** y[r, i] = x[r, i] / sqrt(mean_i(x[r, i]^2) + eps) * w[i] for x [rows, dim], w [dim]. */
    static double[] rmsnorm(float[] x, float[] w, int rows, int dim, double eps) {
        double[] y = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double sumSquares = 0;
            for (int i = 0; i < dim; i++) sumSquares += (double) x[r * dim + i] * x[r * dim + i];
            double inverseRms = 1.0 / Math.sqrt(sumSquares / dim + eps);
            for (int i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * inverseRms * w[i];
        }
        return y;
    }
}
