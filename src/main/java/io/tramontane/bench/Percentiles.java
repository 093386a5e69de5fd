package io.tramontane.bench;

import java.util.Arrays;

/** A latency distribution in milliseconds (NaN everywhere when there were no samples). */
public record Percentiles(double mean, double p50, double p90, double p99, int samples) {

    public static Percentiles of(double[] values) {
        if (values.length == 0) return new Percentiles(Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return new Percentiles(Arrays.stream(sorted).average().orElseThrow(), rank(sorted, 0.50), rank(sorted, 0.90),
                rank(sorted, 0.99), sorted.length);
    }

    /** Nearest rank: the smallest value with at least {@code q} of the samples at or below it. */
    private static double rank(double[] sorted, double q) {
        return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
    }
}
