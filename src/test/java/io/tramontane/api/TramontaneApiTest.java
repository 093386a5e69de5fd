package io.tramontane.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.engine.FinishReason;
import io.tramontane.engine.TokenEvent;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.tokenizer.instruct.ChatRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library API on the demo model: chat prompts, callbacks, Flow streams with cancellation, seeds. */
class TramontaneApiTest {
    @TempDir
    static Path cache;
    static Tramontane model;

    @BeforeAll
    static void open() {
        System.setProperty("tramontane.cache", cache.toString());
        model = Tramontane.open("demo", Tramontane.Options.defaults().withThreads(2));
    }

    @AfterAll
    static void close() {
        model.close();
        System.clearProperty("tramontane.cache");
    }

    static List<TokenEvent> collect(int[] prompt, SamplingParams params) throws Exception {
        List<TokenEvent> events = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        model.generate(prompt, params, e -> {
            events.add(e);
            if (e.isLast()) done.complete(null);
        });
        done.get(30, TimeUnit.SECONDS);
        return events;
    }

    @Test
    void chatPromptUsesTheInstructFormatOfTheTokenizer() {
        int[] prompt = model.chatPrompt(ChatRequest.fromJson("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}"));
        var tekken = model.tokenizer().orElseThrow();
        assertThat(prompt[0]).isEqualTo(tekken.bosId());
        assertThat(prompt[1]).isEqualTo(tekken.specialId("[INST]"));
        assertThat(prompt[prompt.length - 1]).isEqualTo(tekken.specialId("[/INST]"));
    }

    @Test
    void aFixedSeedReproducesSampledOutputExactly() throws Exception {
        int[] prompt = model.chatPrompt(ChatRequest.fromJson("{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me\"}]}"));
        var params = SamplingParams.greedy(24).withTemperature(0.9).withFilters(40, 0.95, 0).withSeed(1234L)
                .withLimits(24, 0, true);
        List<Integer> first = collect(prompt, params).stream().map(TokenEvent::token).toList();
        List<Integer> second = collect(prompt, params).stream().map(TokenEvent::token).toList();
        List<Integer> other = collect(prompt, params.withSeed(99L)).stream().map(TokenEvent::token).toList();
        assertThat(first).hasSize(24).isEqualTo(second).isNotEqualTo(other);
    }

    @Test
    void flowSubscribersGetTheEventsInOrderAndCancellingStopsTheGeneration() throws Exception {
        int[] prompt = {1, 300, 301};
        List<TokenEvent> received = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> cancelled = new CompletableFuture<>();
        model.stream(prompt, SamplingParams.greedy(500).withLimits(500, 0, true)).subscribe(new Flow.Subscriber<>() {
            Flow.Subscription subscription;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(1);
            }

            @Override
            public void onNext(TokenEvent item) {
                received.add(item);
                if (received.size() == 5) {
                    subscription.cancel();
                    cancelled.complete(null);
                } else {
                    subscription.request(1);
                }
            }

            @Override
            public void onError(Throwable t) {
                cancelled.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                cancelled.completeExceptionally(new AssertionError("completed before the cancel"));
            }
        });
        cancelled.get(30, TimeUnit.SECONDS);
        assertThat(received).hasSize(5).allMatch(e -> !e.isLast());
        // the engine frees the sequence: a new greedy request still runs to its length
        List<TokenEvent> after = collect(prompt, SamplingParams.greedy(3).withLimits(3, 0, true));
        assertThat(after.getLast().finish()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void preloadReadsEveryWeightByteWithAProgressBar() {
        var out = new java.io.ByteArrayOutputStream();
        model.preload(io.tramontane.weights.Progress.bar(new java.io.PrintStream(out, true), "loading", model.weightFileBytes()));
        assertThat(model.weightFileBytes()).isPositive();
        assertThat(out.toString()).contains("loading [", "100%");
    }

    @Test
    void warmUpLeavesNothingBehindInTheCache() throws Exception {
        var warm = model.warmUp(java.time.Duration.ofMillis(300));
        assertThat(warm.steps()).isPositive();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (model.stats().kvBlocksUsed() != 0 && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(model.stats().kvBlocksUsed()).isZero();
    }

    @Test
    void logitsOfAPrefillMatchTheGenerationsFirstStep() throws Exception {
        int[] prompt = {1, 300, 301, 302};
        float[][] logits = model.logits(prompt);
        assertThat(logits).hasNumberOfRows(4);
        int best = 0;
        for (int i = 1; i < logits[3].length; i++) if (logits[3][i] > logits[3][best]) best = i;
        int first = collect(prompt, SamplingParams.greedy(1).withLimits(1, 0, true)).getFirst().token();
        assertThat(first).isEqualTo(best);
    }

    @Test
    void q8WeightsGiveLogitsCloseToTheStoredOnesAndAreRefusedForCuda() {
        int[] prompt = {1, 300, 301, 302};
        float[][] stored = model.logits(prompt);
        try (Tramontane q8 = Tramontane.open("demo", Tramontane.Options.defaults().withThreads(2).withCpuWeights(CpuWeights.Q8))) {
            float[][] quantized = q8.logits(prompt);
            double error = 0, reference = 0;
            for (int r = 0; r < stored.length; r++) {
                for (int v = 0; v < stored[r].length; v++) {
                    error += Math.pow(quantized[r][v] - stored[r][v], 2);
                    reference += stored[r][v] * stored[r][v];
                }
            }
            assertThat(Math.sqrt(error / reference)).as("RMS of the q8 logit error / RMS of the logits").isBetween(1e-6, 0.05);
        }
        assertThatThrownBy(() -> Tramontane.Options.defaults().withCpuWeights(CpuWeights.Q4).withBackend("cuda"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("q4").hasMessageContaining("CPU backend only");
    }

    @Test
    void anFp8KvCacheIsACudaOption() {
        var cuda = Tramontane.Options.defaults().withBackend("cuda").withKvCacheDtype(KvCacheDtype.FP8_E4M3);
        assertThat(cuda.kvCacheDtype()).isEqualTo(KvCacheDtype.FP8_E4M3);
        assertThat(cuda.withThreads(3).withKvCacheBytes(1 << 30).kvCacheDtype()).isEqualTo(KvCacheDtype.FP8_E4M3);
        assertThat(Tramontane.Options.defaults().kvCacheDtype()).isEqualTo(KvCacheDtype.BF16);
        assertThatThrownBy(() -> cuda.withBackend("cpu")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cuda backend only");
    }
}
