package io.tramontane.server;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tramontane.engine.EngineStats;
import io.tramontane.engine.StepObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The server's Prometheus metrics, in a registry of its own (several servers may live in one JVM, as in
 * the tests). Names follow vLLM's where there is one, with the {@code tramontane_} prefix.
 */
final class ServerMetrics {
    private static final double[] LATENCY_BOUNDS =
            {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    private final Counter requests = Counter.builder().name("tramontane_http_requests")
            .help("HTTP requests by endpoint and status code").labelNames("endpoint", "status").register(registry);
    private final Counter promptTokens = Counter.builder().name("tramontane_prompt_tokens")
            .help("Prompt tokens of generation requests").register(registry);
    private final Counter generationTokens = Counter.builder().name("tramontane_generation_tokens")
            .help("Generated tokens").register(registry);
    private final Histogram timeToFirstToken = Histogram.builder().name("tramontane_time_to_first_token_seconds")
            .help("From request arrival to its first generated token").classicOnly()
            .classicUpperBounds(LATENCY_BOUNDS).register(registry);
    private final Histogram interTokenLatency = Histogram.builder().name("tramontane_inter_token_latency_seconds")
            .help("Between consecutive tokens of one choice").classicOnly()
            .classicUpperBounds(LATENCY_BOUNDS).register(registry);
    private final Histogram requestLatency = Histogram.builder().name("tramontane_e2e_request_latency_seconds")
            .help("From request arrival to its last generated token").classicOnly()
            .classicUpperBounds(LATENCY_BOUNDS).register(registry);
    private final Gauge running = Gauge.builder().name("tramontane_requests_running")
            .help("Generation requests producing tokens").register(registry);
    private final Gauge waiting = Gauge.builder().name("tramontane_requests_waiting")
            .help("Generation requests waiting for their first token").register(registry);

    /** @param engine the engine's latest snapshot, read at every scrape for the KV cache and scheduler gauges */
    ServerMetrics(Supplier<EngineStats> engine) {
        GaugeWithCallback.builder().name("tramontane_kv_cache_usage_ratio")
                .help("Fraction of the KV cache blocks in use (1 = full)")
                .callback(callback -> {
                    EngineStats stats = engine.get();
                    if (stats != null && stats.kvBlocksTotal() > 0) {
                        callback.call((double) stats.kvBlocksUsed() / stats.kvBlocksTotal());
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("tramontane_engine_sequences_running")
                .help("Sequences the engine is decoding (each choice of a request is one)")
                .callback(callback -> {
                    EngineStats stats = engine.get();
                    if (stats != null) callback.call(stats.running());
                }).register(registry);
        GaugeWithCallback.builder().name("tramontane_kv_cache_blocks")
                .help("KV cache blocks by state: used (referenced by a sequence) and total")
                .labelNames("state")
                .callback(callback -> {
                    EngineStats stats = engine.get();
                    if (stats != null) {
                        callback.call(stats.kvBlocksUsed(), "used");
                        callback.call(stats.kvBlocksTotal(), "total");
                        callback.call(stats.cachedBlocks(), "prefix_cached");
                    }
                }).register(registry);
        CounterWithCallback.builder().name("tramontane_engine_preemptions")
                .help("Sequences preempted (blocks given back, recomputed later) because the KV cache ran out")
                .callback(callback -> {
                    EngineStats stats = engine.get();
                    if (stats != null) callback.call(stats.preemptions());
                }).register(registry);
        CounterWithCallback.builder().name("tramontane_prefix_cache_tokens")
                .help("Prompt tokens looked up in the prefix cache (queried) and found there (hit); hit rate = hit / queried")
                .labelNames("result")
                .callback(callback -> {
                    EngineStats stats = engine.get();
                    if (stats != null) {
                        callback.call(stats.prefixQueriedTokens(), "queried");
                        callback.call(stats.prefixHitTokens(), "hit");
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("tramontane_engine_sequences_waiting")
                .help("Sequences queued in the engine for KV cache room or a batch slot")
                .callback(callback -> {
                    EngineStats stats = engine.get();
                    if (stats != null) callback.call(stats.waiting());
                }).register(registry);
    }

    private final Histogram batchSequences = Histogram.builder().name("tramontane_step_sequences")
            .help("Sequences in one engine step").classicOnly()
            .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
    private final Histogram batchTokens = Histogram.builder().name("tramontane_step_tokens")
            .help("Tokens computed in one engine step (decodes plus prefill chunks)").classicOnly()
            .classicUpperBounds(1, 4, 16, 64, 256, 1024, 2048, 4096, 8192).register(registry);

    /** Feeds the per-step histograms; the server registers it with the engine. */
    StepObserver stepObserver() {
        return (sequences, tokens, nanos) -> {
            batchSequences.observe(sequences);
            batchTokens.observe(tokens);
        };
    }

    void request(String endpoint, int status) {
        requests.labelValues(endpoint, Integer.toString(status)).inc();
    }

    void submitted(int prompt) {
        promptTokens.inc(prompt);
        waiting.inc();
    }

    void firstToken(double seconds) {
        waiting.dec();
        running.inc();
        timeToFirstToken.observe(seconds);
    }

    void token(double secondsSincePrevious) {
        generationTokens.inc();
        if (secondsSincePrevious >= 0) interTokenLatency.observe(secondsSincePrevious);
    }

    /** The end of a generation request; {@code started} tells whether it had left the waiting state. */
    void finished(boolean started, double seconds) {
        if (started) running.dec();
        else waiting.dec();
        requestLatency.observe(seconds);
    }

    String scrape() {
        var out = new ByteArrayOutputStream();
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    String contentType() {
        return writer.getContentType();
    }
}
