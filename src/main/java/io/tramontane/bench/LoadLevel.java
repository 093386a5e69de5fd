package io.tramontane.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.DoubleStream;

/**
 * The outcome of one load level (a concurrency or a request rate): throughput over the level's wall
 * time, latency percentiles over its successful requests, and its errors.
 *
 * @param concurrency           streams kept in flight, or null for a request-rate level
 * @param requestRate           Poisson arrivals per second, or null for a concurrency level
 * @param outputTokensPerSecond generated tokens of all requests per second of wall time
 * @param ttftMs                time to first token
 * @param interTokenMs          gaps between consecutive chunks with text, all requests pooled
 * @param latencyMs             end-to-end request latency
 * @param errorSamples          the first few error messages
 */
public record LoadLevel(Integer concurrency, Double requestRate, int requests, int errors, double seconds,
                        double requestsPerSecond, double outputTokensPerSecond, double meanPromptTokens,
                        double meanOutputTokens, Percentiles ttftMs, Percentiles interTokenMs, Percentiles latencyMs,
                        List<String> errorSamples) {

    private static final int ERROR_SAMPLES = 3;

    static LoadLevel of(Integer concurrency, Double rate, List<StreamingClient.Result> results, double seconds) {
        List<StreamingClient.Result> ok = results.stream().filter(StreamingClient.Result::ok).toList();
        List<String> errors = new ArrayList<>();
        for (var r : results) if (!r.ok() && errors.size() < ERROR_SAMPLES) errors.add(r.error());
        long outputTokens = ok.stream().mapToLong(StreamingClient.Result::outputTokens).sum();
        return new LoadLevel(concurrency, rate, results.size(), results.size() - ok.size(), seconds,
                ok.size() / seconds, outputTokens / seconds,
                ok.stream().mapToInt(StreamingClient.Result::promptTokens).filter(t -> t >= 0).average().orElse(Double.NaN),
                ok.stream().mapToInt(StreamingClient.Result::outputTokens).average().orElse(Double.NaN),
                Percentiles.of(ok.stream().mapToDouble(StreamingClient.Result::ttftMs).toArray()),
                Percentiles.of(ok.stream().flatMapToDouble(r -> DoubleStream.of(r.interTokenMs())).toArray()),
                Percentiles.of(ok.stream().mapToDouble(StreamingClient.Result::latencyMs).toArray()), errors);
    }

    /** How the level is named in tables and on the plot: {@code c=4} or {@code 2.0 req/s}. */
    public String label() {
        return concurrency != null ? "c=" + concurrency : String.format(Locale.ROOT, "%.3g req/s", requestRate);
    }
}
