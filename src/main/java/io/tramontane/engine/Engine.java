package io.tramontane.engine;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.model.LanguageModel;
import io.tramontane.model.Step;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.Sampler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine loop: one thread owns the model, the KV cache and the scheduler; callers submit requests
 * through an inbox and receive {@link TokenEvent}s on their listener (called on the engine thread:
 * keep it short). Each step runs what the {@link Scheduler} picked as one batch: prefill chunks and
 * one token of every decoding sequence.
 */
public final class Engine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    /**
     * @param maxSequences     sequences in one batch
     * @param maxContext       positions per sequence (capped by the KV cache size)
     * @param maxBatchedTokens tokens in one step: bounds how long a long prompt stalls everyone's decoding
     * @param prefixCaching    reuse cached KV blocks of identical prompt prefixes
     * @param maxWaitMillis    a request not admitted within this time fails (0: wait forever)
     */
    public record Options(int maxSequences, int maxContext, int maxBatchedTokens, boolean prefixCaching,
                          long maxWaitMillis) {
        public Options {
            if (maxSequences < 1) throw new IllegalArgumentException("max_num_seqs must be >= 1, got " + maxSequences);
            if (maxBatchedTokens < 1) {
                throw new IllegalArgumentException("max_num_batched_tokens must be >= 1, got " + maxBatchedTokens);
            }
        }

        public Options(int maxSequences, int maxContext) {
            this(maxSequences, maxContext, 2048, true, 0);
        }
    }

    private final LanguageModel model;
    private final int eosId;
    private final Options options;
    private final int maxContext;
    private final KvCacheManager cache;
    private final Scheduler scheduler;
    private volatile StepObserver observer;
    /** Work handed to the engine thread: admitting a sequence, a logits request. */
    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile EngineStats stats;
    private long steps;

    public Engine(LanguageModel model, int eosId, Options options) {
        this(model, eosId, options, StepObserver.NONE);
    }

    public Engine(LanguageModel model, int eosId, Options options, StepObserver observer) {
        this.model = model;
        this.eosId = eosId;
        this.options = options;
        this.maxContext = Math.min(options.maxContext(), model.kvBlocks() * model.blockSize());
        this.cache = new KvCacheManager(model.kvBlocks(), model.blockSize(), options.prefixCaching());
        this.scheduler = new Scheduler(cache, new Scheduler.Limits(options.maxSequences(), options.maxBatchedTokens()));
        this.observer = observer;
        publishStats();
        this.thread = Thread.ofPlatform().name("tramontane-engine").daemon().start(this::loop);
    }

    public int maxContext() {
        return maxContext;
    }

    public EngineStats stats() {
        return stats;
    }

    public void observeSteps(StepObserver stepObserver) {
        this.observer = stepObserver;
    }

    public Generation submit(GenerationRequest request, Consumer<TokenEvent> listener) {
        if (closed) throw new IllegalStateException("engine is closed");
        Sequence sequence = new Sequence(request, eosId, listener);
        inbox.add(() -> {
            if (sequence.length >= maxContext) {
                finish(sequence, FinishReason.ERROR, new IllegalArgumentException("prompt of " + sequence.length
                        + " tokens does not fit the context of " + maxContext + " positions"));
            } else {
                scheduler.waiting.add(sequence);
            }
        });
        return sequence;
    }

    /**
     * The logits of every position of {@code tokens} from one prefill (no sampling, nothing kept in the
     * cache afterwards). Runs on the engine thread between steps.
     */
    public CompletableFuture<float[][]> logits(int[] tokens) {
        if (closed) throw new IllegalStateException("engine is closed");
        CompletableFuture<float[][]> result = new CompletableFuture<>();
        inbox.add(() -> {
            int needed = (tokens.length + model.blockSize() - 1) / model.blockSize();
            if (tokens.length > maxContext || needed > cache.availableBlocks()) {
                result.completeExceptionally(new IllegalArgumentException(tokens.length
                        + " tokens do not fit the free KV cache (" + cache.availableBlocks() + " blocks of "
                        + model.blockSize() + ")"));
                return;
            }
            int[] table = new int[needed];
            for (int i = 0; i < needed; i++) table[i] = cache.allocate();
            try {
                int[] rows = IntStream.range(0, tokens.length).toArray();
                result.complete(model.forward(Step.ofSequence(tokens, 0, table, rows)));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            } finally {
                cache.release(table, needed);
            }
        });
        return result;
    }

    private void loop() {
        while (!closed) {
            try {
                Runnable work = scheduler.running.isEmpty() && scheduler.waiting.isEmpty()
                        ? inbox.poll(100, TimeUnit.MILLISECONDS) : inbox.poll();
                for (; work != null; work = inbox.poll()) work.run();
                dropCancelledAndExpired();
                List<Scheduler.Work> batch = scheduler.schedule();
                if (!batch.isEmpty()) step(batch);
                publishStats();
            } catch (InterruptedException e) {
                break;  // close(): end every request below
            }
        }
        for (Runnable work; (work = inbox.poll()) != null; ) work.run();
        for (Sequence s : List.copyOf(scheduler.running)) finish(s, FinishReason.CANCELLED, null);
        for (Sequence s : List.copyOf(scheduler.waiting)) finish(s, FinishReason.CANCELLED, null);
        publishStats();
    }

    private void dropCancelledAndExpired() {
        for (Sequence s : List.copyOf(scheduler.running)) {
            if (s.isCancelled()) finish(s, FinishReason.CANCELLED, null);
        }
        long now = System.nanoTime();
        for (Sequence s : List.copyOf(scheduler.waiting)) {
            if (s.isCancelled()) {
                finish(s, FinishReason.CANCELLED, null);
            } else if (options.maxWaitMillis() > 0 && s.generated == 0
                    && now - s.arrivalNanos > TimeUnit.MILLISECONDS.toNanos(options.maxWaitMillis())) {
                finish(s, FinishReason.ERROR, new IllegalStateException("request waited more than "
                        + options.maxWaitMillis() + " ms for a free slot"));
            }
        }
    }

    private void step(List<Scheduler.Work> batch) {
        long started = System.nanoTime();
        int total = 0, sampling = 0;
        for (Scheduler.Work w : batch) {
            total += w.tokens();
            if (w.samples()) sampling++;
        }
        int[] tokens = new int[total], positions = new int[total], logitRows = new int[sampling];
        List<AttentionBatch.Segment> segments = new ArrayList<>();
        int row = 0, logitIndex = 0;
        for (Scheduler.Work w : batch) {
            Sequence s = w.sequence();
            System.arraycopy(s.tokens, s.computed, tokens, row, w.tokens());
            for (int j = 0; j < w.tokens(); j++) positions[row + j] = s.computed + j;
            segments.add(new AttentionBatch.Segment(row, w.tokens(), s.computed, Arrays.copyOf(s.blockTable, s.blocks)));
            row += w.tokens();
            if (w.samples()) logitRows[logitIndex++] = row - 1;
        }
        // rows that need no host logits are drawn on the backend: the step then returns only token ids
        boolean onBackend = true;
        for (Scheduler.Work w : batch) if (w.samples() && w.sequence().sampler.needsLogits()) onBackend = false;
        Step forward = new Step(tokens, positions, new AttentionBatch(segments), logitRows);
        float[][] logits = null;
        int[] sampled = null;
        try {
            if (onBackend) {
                List<DrawRequest> draws = new ArrayList<>(sampling);
                for (Scheduler.Work w : batch) if (w.samples()) draws.add(w.sequence().sampler.nextDraw());
                sampled = model.forwardAndSample(forward, draws);
            } else {
                logits = model.forward(forward);
            }
        } catch (RuntimeException e) {
            log.error("forward step failed; failing its {} sequences", batch.size(), e);
            for (Scheduler.Work w : batch) finish(w.sequence(), FinishReason.ERROR, e);
            return;
        }
        steps++;
        logitIndex = 0;
        for (Scheduler.Work w : batch) {
            Sequence s = w.sequence();
            boolean samples = w.samples();
            s.computed += w.tokens();
            cache.cacheFullBlocks(s);
            if (samples) {
                int i = logitIndex++;
                advance(s, sampled != null ? s.sampler.accept(sampled[i]) : s.sampler.next(logits[i]));
            }
        }
        observer.onStep(batch.size(), total, System.nanoTime() - started);
    }

    /** Appends the sampled token, emits, and removes the sequence when it finished. */
    private void advance(Sequence s, Sampler.Sample sample) {
        int token = sample.token();
        s.append(token);
        var params = s.request.sampling();
        boolean constraintDone = s.request.constraint() != null && s.request.constraint().isComplete() && token == eosId;
        boolean stopToken = (!params.ignoreEos() && token == eosId) || params.stopTokenIds().contains(token) || constraintDone;
        String text = stopToken ? "" : s.stops.accept(s.request.text().append(token));
        FinishReason finish = null;
        if (stopToken || s.stops.matched()) finish = FinishReason.STOP;
        else if (s.generated >= params.maxTokens() || s.length >= maxContext) finish = FinishReason.LENGTH;
        if (finish != null && !s.stops.matched()) text += s.stops.accept(s.request.text().flush()) + s.stops.flush();
        if (finish != null) scheduler.remove(s);
        if (!emit(s, new TokenEvent(token, text, sample, finish, null)) && finish == null) scheduler.remove(s);
    }

    private void finish(Sequence s, FinishReason reason, Throwable error) {
        scheduler.remove(s);
        emit(s, new TokenEvent(-1, "", null, reason, error));
    }

    /** Delivers an event; a listener that throws is treated as a client gone away: its sequence is cancelled. */
    private boolean emit(Sequence s, TokenEvent event) {
        try {
            s.listener.accept(event);
            return true;
        } catch (RuntimeException e) {
            log.debug("listener failed, cancelling its sequence", e);
            s.cancel();
            return false;
        }
    }

    private void publishStats() {
        stats = new EngineStats(scheduler.running.size(), scheduler.waiting.size(), scheduler.preemptions,
                cache.totalBlocks() - cache.availableBlocks(), cache.totalBlocks(), cache.cachedBlocks(),
                cache.queriedTokens(), cache.hitTokens(), steps);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        model.close();
    }
}
