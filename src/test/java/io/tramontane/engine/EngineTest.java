package io.tramontane.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.model.ModelConfig;
import io.tramontane.model.ReferenceTransformer;
import io.tramontane.model.TestModels;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.weights.ModelWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EngineTest {
    static final ModelConfig CONFIG = TestModels.dense(32, 2, 4, 2, 8, 48, 64);
    static final ModelWeights WEIGHTS = TestModels.random(CONFIG, 3);
    Engine engine;

    @BeforeEach
    void start() {
        var options = new ModelFactory.Options(2, 1, 64, 4, true);
        engine = new Engine(ModelFactory.cpu(WEIGHTS, options), 2, new Engine.Options(8, 256));
    }

    @AfterEach
    void stop() {
        engine.close();
    }

    /** Collects a generation's events; completes with them on the last one. */
    static final class Collector {
        final List<TokenEvent> events = new CopyOnWriteArrayList<>();
        final CompletableFuture<List<TokenEvent>> done = new CompletableFuture<>();

        void accept(TokenEvent e) {
            events.add(e);
            if (e.isLast()) done.complete(events);
        }

        List<TokenEvent> await() throws Exception {
            return done.get(60, TimeUnit.SECONDS);
        }

        int[] tokens() {
            return events.stream().filter(e -> e.token() >= 0).mapToInt(TokenEvent::token).toArray();
        }

        String text() {
            return String.join("", events.stream().map(TokenEvent::text).toList());
        }

        FinishReason finish() {
            return events.getLast().finish();
        }
    }

    static Collector run(Engine engine, int[] prompt, SamplingParams params, TextStream text) throws Exception {
        Collector c = new Collector();
        engine.submit(new GenerationRequest(prompt, params, text), c::accept);
        c.await();
        return c;
    }

    static int[] prompt(int seed, int length) {
        return new SplittableRandom(seed).ints(length, 3, CONFIG.vocabSize()).toArray();
    }

    @Test
    void greedyGenerationFollowsTheReferenceArgmax() throws Exception {
        int[] prompt = prompt(1, 6);
        Collector c = run(engine, prompt, SamplingParams.greedy(8).withLimits(8, 0, true), TextStream.NONE);
        int[] expected = new int[8];
        int[] sequence = prompt.clone();
        var reference = new ReferenceTransformer(WEIGHTS);
        for (int i = 0; i < 8; i++) {
            double[] last = reference.logits(sequence)[sequence.length - 1];
            int best = 0;
            for (int v = 1; v < last.length; v++) if (last[v] > last[best]) best = v;
            expected[i] = best;
            sequence = java.util.Arrays.copyOf(sequence, sequence.length + 1);
            sequence[sequence.length - 1] = best;
        }
        assertThat(c.tokens()).containsExactly(expected);
        assertThat(c.finish()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void concurrentRequestsGiveExactlyTheTokensEachGivesAlone() throws Exception {
        var params = SamplingParams.greedy(10).withLimits(10, 0, true);
        List<int[]> prompts = new ArrayList<>();
        List<int[]> alone = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            prompts.add(prompt(10 + i, 3 + 5 * i));
            alone.add(run(engine, prompts.get(i), params, TextStream.NONE).tokens());
        }
        List<Collector> together = new ArrayList<>();
        for (int[] p : prompts) {
            Collector c = new Collector();
            engine.submit(new GenerationRequest(p, params, TextStream.NONE), c::accept);
            together.add(c);
        }
        for (int i = 0; i < prompts.size(); i++) {
            together.get(i).await();
            assertThat(together.get(i).tokens()).as("request %d", i).containsExactly(alone.get(i));
        }
        awaitNoBlocksUsed(engine);  // stats are published after the step that emitted the last events
    }

    @Test
    void stopStringsEndTheGenerationAcrossTokenBoundariesAndAreNotEmitted() throws Exception {
        int[] prompt = prompt(2, 5);
        // every token decodes to a space and its id; the stop string spans the 3rd and 4th tokens
        Collector free = run(engine, prompt, SamplingParams.greedy(6).withLimits(6, 0, true), new IdText());
        int[] t = free.tokens();
        String stop = " " + t[2] + " " + t[3];  // spans two tokens
        var params = SamplingParams.greedy(6).withLimits(6, 0, true).withStops(List.of(), List.of(stop));
        Collector stopped = run(engine, prompt, params, new IdText());
        assertThat(stopped.finish()).isEqualTo(FinishReason.STOP);
        assertThat(stopped.text()).isEqualTo(" " + t[0] + " " + t[1]);
        assertThat(stopped.tokens()).hasSize(4);
    }

    @Test
    void stopTokenIdsEndTheGeneration() throws Exception {
        int[] prompt = prompt(3, 5);
        int[] free = run(engine, prompt, SamplingParams.greedy(6).withLimits(6, 0, true), TextStream.NONE).tokens();
        var params = SamplingParams.greedy(6).withLimits(6, 0, true).withStops(List.of(free[2]), List.of());
        Collector stopped = run(engine, prompt, params, TextStream.NONE);
        assertThat(stopped.finish()).isEqualTo(FinishReason.STOP);
        assertThat(stopped.tokens()).containsExactly(free[0], free[1], free[2]);
    }

    @Test
    void cancellingFreesEveryBlockAndEndsWithCancelled() throws Exception {
        Collector c = new Collector();
        // listeners run on the engine thread: holding the third event until the cancel is issued makes the
        // cancel land mid-generation however fast the steps are
        var cancelled = new java.util.concurrent.CountDownLatch(1);
        Generation g = engine.submit(new GenerationRequest(prompt(4, 8), SamplingParams.greedy(200).withLimits(200, 0, true),
                TextStream.NONE), e -> {
            c.accept(e);
            if (c.events.size() == 3) {
                try {
                    cancelled.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        awaitEvents(c, 3);
        g.cancel();
        cancelled.countDown();
        c.await();
        assertThat(c.finish()).isEqualTo(FinishReason.CANCELLED);
        assertThat(c.tokens().length).isLessThan(200);
        awaitNoBlocksUsed(engine);
    }

    @Test
    void aPromptLongerThanTheContextFailsClearly() throws Exception {
        Collector c = run(engine, prompt(5, 300), SamplingParams.greedy(4), TextStream.NONE);
        assertThat(c.finish()).isEqualTo(FinishReason.ERROR);
        assertThat(c.events.getLast().error()).hasMessageContaining("300 tokens");
    }

    static void awaitEvents(Collector c, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (c.events.size() < count && !c.done.isDone() && System.nanoTime() < deadline) Thread.sleep(1);
        assertThat(c.events).as("events before the deadline").hasSizeGreaterThanOrEqualTo(count);
    }

    static void awaitNoBlocksUsed(Engine engine) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (engine.stats().kvBlocksUsed() != 0 && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(engine.stats().kvBlocksUsed()).as("KV blocks still referenced").isZero();
    }

    /** A space and the token id, as text. */
    static final class IdText implements TextStream {
        @Override
        public String append(int token) {
            return " " + token;
        }

        @Override
        public String flush() {
            return "";
        }
    }
}
