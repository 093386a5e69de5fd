package io.tramontane.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.model.LanguageModel;
import io.tramontane.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching under pressure: chunked prefill, preemption by recompute, prefix caching and
 * cancellation must never change a request's tokens (batch invariance) and must give every block back.
 */
class SchedulerTest {
    static final SamplingParams GREEDY_12 = SamplingParams.greedy(12).withLimits(12, 0, true);

    static Engine engine(int kvBlocks, int maxBatchedTokens, boolean prefixCaching) {
        return engine(kvBlocks, maxBatchedTokens, prefixCaching, StepObserver.NONE);
    }

    static Engine engine(int kvBlocks, int maxBatchedTokens, boolean prefixCaching, StepObserver observer) {
        var options = new ModelFactory.Options(2, 1, kvBlocks, 4, true);
        LanguageModel model = ModelFactory.cpu(EngineTest.WEIGHTS, options);
        return new Engine(model, 2, new Engine.Options(8, 256, maxBatchedTokens, prefixCaching, 0), observer);
    }

    static List<int[]> prompts() {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 6; i++) prompts.add(EngineTest.prompt(40 + i, 2 + 9 * i));  // 2 .. 47 tokens
        return prompts;
    }

    static List<int[]> soloTokens(List<int[]> prompts) throws Exception {
        List<int[]> solo = new ArrayList<>();
        try (Engine alone = engine(64, 4096, false)) {
            for (int[] p : prompts) solo.add(EngineTest.run(alone, p, GREEDY_12, TextStream.NONE).tokens());
        }
        return solo;
    }

    static List<EngineTest.Collector> submitAll(Engine engine, List<int[]> prompts) {
        List<EngineTest.Collector> collectors = new ArrayList<>();
        for (int[] p : prompts) {
            var c = new EngineTest.Collector();
            engine.submit(new GenerationRequest(p, GREEDY_12, TextStream.NONE), c::accept);
            collectors.add(c);
        }
        return collectors;
    }

    @Test
    void chunkedPrefillInBatchesGivesTheSoloTokens() throws Exception {
        List<int[]> prompts = prompts();
        List<int[]> solo = soloTokens(prompts);
        List<Integer> stepTokens = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Engine engine = engine(64, 7, false, (sequences, tokens, nanos) -> stepTokens.add(tokens))) {
            List<EngineTest.Collector> together = submitAll(engine, prompts);
            for (int i = 0; i < prompts.size(); i++) {
                assertThat(together.get(i).await().getLast().finish()).isEqualTo(FinishReason.LENGTH);
                assertThat(together.get(i).tokens()).as("request %d", i).containsExactly(solo.get(i));
            }
            assertThat(stepTokens).allMatch(t -> t <= 7);
            EngineTest.awaitNoBlocksUsed(engine);
        }
    }

    @Test
    void aTightKvBudgetPreemptsAndEveryRequestStillCompletesWithItsSoloTokens() throws Exception {
        List<int[]> prompts = prompts();
        List<int[]> solo = soloTokens(prompts);
        // 16 blocks of 4 = 64 positions: the longest request alone needs 59, all of them together ~200.
        // The first step waits until every request is queued, so they compete however fast the steps run.
        var queued = new java.util.concurrent.CountDownLatch(1);
        StepObserver holdFirstStep = (sequences, tokens, nanos) -> {
            try {
                queued.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try (Engine engine = engine(16, 64, false, holdFirstStep)) {
            List<EngineTest.Collector> together = submitAll(engine, prompts);
            queued.countDown();
            for (int i = 0; i < prompts.size(); i++) {
                together.get(i).await();
                assertThat(together.get(i).tokens()).as("request %d", i).containsExactly(solo.get(i));
            }
            assertThat(engine.stats().preemptions()).isPositive();
            EngineTest.awaitNoBlocksUsed(engine);
        }
    }

    @Test
    void aRepeatedLongPromptHitsThePrefixCacheWithIdenticalOutput() throws Exception {
        int[] prompt = EngineTest.prompt(77, 41);
        try (Engine engine = engine(64, 4096, true)) {
            int[] first = EngineTest.run(engine, prompt, GREEDY_12, TextStream.NONE).tokens();
            long hitsBefore = engine.stats().prefixHitTokens();
            int[] second = EngineTest.run(engine, prompt, GREEDY_12, TextStream.NONE).tokens();
            assertThat(second).containsExactly(first);
            // 40 of 41 prompt tokens are eligible (the last one is always computed): 10 full blocks of 4
            assertThat(engine.stats().prefixHitTokens() - hitsBefore).isEqualTo(40);
            assertThat(engine.stats().cachedBlocks()).isPositive();
            float[] logitsCold = lastLogits(engine, prompt);
            assertThat(logitsCold).isEqualTo(lastLogits(engine, prompt));
        }
    }

    @Test
    void aSharedPrefixIsReusedAcrossDifferentRequests() throws Exception {
        int[] system = EngineTest.prompt(5, 32);
        int[] a = concat(system, EngineTest.prompt(6, 5)), b = concat(system, EngineTest.prompt(7, 9));
        int[] soloB;
        try (Engine cold = engine(64, 4096, false)) {
            soloB = EngineTest.run(cold, b, GREEDY_12, TextStream.NONE).tokens();
        }
        try (Engine engine = engine(64, 4096, true)) {
            EngineTest.run(engine, a, GREEDY_12, TextStream.NONE);
            long before = engine.stats().prefixHitTokens();
            assertThat(EngineTest.run(engine, b, GREEDY_12, TextStream.NONE).tokens()).containsExactly(soloB);
            assertThat(engine.stats().prefixHitTokens() - before).isEqualTo(32);
        }
    }

    @Test
    void cancellingMidPrefillAndMidDecodeFreesEveryBlock() throws Exception {
        // from the third step on, each step waits for a permit: the cancels land mid-prefill and mid-decode
        // however fast the steps run
        var permits = new java.util.concurrent.Semaphore(0);
        var steps = new java.util.concurrent.atomic.AtomicInteger();
        StepObserver gate = (sequences, tokens, nanos) -> {
            if (steps.incrementAndGet() >= 3) permits.acquireUninterruptibly();
        };
        try (Engine engine = engine(64, 4, true, gate)) {
            var prefilling = new EngineTest.Collector();
            Generation longPrompt = engine.submit(new GenerationRequest(EngineTest.prompt(8, 120), GREEDY_12,
                    TextStream.NONE), prefilling::accept);
            var decoding = new EngineTest.Collector();
            Generation longOutput = engine.submit(new GenerationRequest(EngineTest.prompt(9, 3),
                    SamplingParams.greedy(200).withLimits(200, 0, true), TextStream.NONE), decoding::accept);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (steps.get() < 3 && System.nanoTime() < deadline) Thread.sleep(1);
            longPrompt.cancel();  // 120 tokens at 4 per step: still prefilling
            permits.release(12);  // room for a few decode steps, far fewer than the 200 tokens asked
            EngineTest.awaitEvents(decoding, 2);
            longOutput.cancel();
            permits.release(1 << 20);
            assertThat(prefilling.await().getLast().finish()).isEqualTo(FinishReason.CANCELLED);
            assertThat(prefilling.tokens()).isEmpty();
            assertThat(decoding.await().getLast().finish()).isEqualTo(FinishReason.CANCELLED);
            EngineTest.awaitNoBlocksUsed(engine);
        } finally {
            permits.release(1 << 20);
        }
    }

    private static float[] lastLogits(Engine engine, int[] prompt) throws Exception {
        float[][] logits = engine.logits(prompt).get(30, TimeUnit.SECONDS);
        return logits[logits.length - 1];
    }

    private static int[] concat(int[] a, int[] b) {
        return IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray();
    }
}
