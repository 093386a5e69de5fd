package io.tramontane.engine;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.model.LanguageModel;
import io.tramontane.model.Step;
import io.tramontane.sampling.Sampler;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine loop: one thread owns the model and the KV blocks; callers submit requests through a
 * queue and receive {@link TokenEvent}s on their listener (called on the engine thread: keep it short).
 * Every step runs the pending tokens of all admitted sequences as one batch: whole prompts of newly
 * admitted requests and one token of every decoding sequence.
 */
public final class Engine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    /** @param maxSequences sequences decoded together; @param maxContext positions per sequence */
    public record Options(int maxSequences, int maxContext) {}

    private final LanguageModel model;
    private final int eosId;
    private final Options options;
    private final KvBlockPool pool;
    /** Work handed to the engine thread: admitting a sequence, a logits request. */
    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile int freeBlocks;

    public Engine(LanguageModel model, int eosId, Options options) {
        this.model = model;
        this.eosId = eosId;
        int capacity = model.kvBlocks() * model.blockSize();
        this.options = new Options(options.maxSequences(), Math.min(options.maxContext(), capacity));
        this.pool = new KvBlockPool(model.kvBlocks());
        this.freeBlocks = pool.available();
        this.thread = Thread.ofPlatform().name("tramontane-engine").daemon().start(this::loop);
    }

    public int maxContext() {
        return options.maxContext();
    }

    public Generation submit(GenerationRequest request, Consumer<TokenEvent> listener) {
        if (closed) throw new IllegalStateException("engine is closed");
        Sequence sequence = new Sequence(request, eosId, listener);
        inbox.add(() -> waiting.add(sequence));
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
            if (tokens.length > options.maxContext() || needed > pool.available()) {
                result.completeExceptionally(new IllegalArgumentException(tokens.length
                        + " tokens do not fit the free KV cache (" + pool.available() + " blocks of " + model.blockSize() + ")"));
                return;
            }
            int[] table = new int[needed];
            for (int i = 0; i < needed; i++) table[i] = pool.allocate();
            try {
                int[] rows = java.util.stream.IntStream.range(0, tokens.length).toArray();
                result.complete(model.forward(Step.ofSequence(tokens, 0, table, rows)));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            } finally {
                pool.release(table, needed);
            }
        });
        return result;
    }

    private void loop() {
        while (!closed) {
            try {
                Runnable work = running.isEmpty() && waiting.isEmpty()
                        ? inbox.poll(100, TimeUnit.MILLISECONDS) : inbox.poll();
                for (; work != null; work = inbox.poll()) work.run();
                dropCancelled();
                admit();
                if (!running.isEmpty()) step();
                freeBlocks = pool.available();
            } catch (InterruptedException e) {
                break;  // close(): end every request below
            }
        }
        for (Runnable work; (work = inbox.poll()) != null; ) work.run();
        for (Sequence s : running) finish(s, FinishReason.CANCELLED, null);
        for (Sequence s : waiting) finish(s, FinishReason.CANCELLED, null);
    }

    private void dropCancelled() {
        for (Iterator<Sequence> it = waiting.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.isCancelled()) {
                it.remove();
                finish(s, FinishReason.CANCELLED, null);
            }
        }
        for (Iterator<Sequence> it = running.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.isCancelled()) {
                it.remove();
                finish(s, FinishReason.CANCELLED, null);
            }
        }
    }

    /** FCFS: a request is admitted once the blocks for its prompt and all its output tokens are free. */
    private void admit() {
        while (!waiting.isEmpty() && running.size() < options.maxSequences()) {
            Sequence s = waiting.peek();
            int prompt = s.request.prompt().length;
            if (prompt >= options.maxContext()) {
                waiting.poll();
                finish(s, FinishReason.ERROR, new IllegalArgumentException("prompt of " + prompt
                        + " tokens does not fit the context of " + options.maxContext() + " positions"));
                continue;
            }
            int positions = Math.min(options.maxContext(), prompt + s.request.sampling().maxTokens());
            int needed = (positions + model.blockSize() - 1) / model.blockSize();
            if (needed > pool.available()) return;
            waiting.poll();
            s.blockTable = new int[needed];
            for (int i = 0; i < needed; i++) s.blockTable[s.blocks++] = pool.allocate();
            running.add(s);
        }
    }

    private void step() {
        int total = 0;
        for (Sequence s : running) total += s.length - s.computed;
        int[] tokens = new int[total], positions = new int[total], logitRows = new int[running.size()];
        List<AttentionBatch.Segment> segments = new ArrayList<>();
        int row = 0;
        for (int i = 0; i < running.size(); i++) {
            Sequence s = running.get(i);
            int[] pending = s.pending();
            System.arraycopy(pending, 0, tokens, row, pending.length);
            for (int j = 0; j < pending.length; j++) positions[row + j] = s.computed + j;
            segments.add(new AttentionBatch.Segment(row, pending.length, s.computed, s.blockTable));
            row += pending.length;
            logitRows[i] = row - 1;
        }
        float[][] logits;
        try {
            logits = model.forward(new Step(tokens, positions, new AttentionBatch(segments), logitRows));
        } catch (RuntimeException e) {
            log.error("forward step failed; failing its {} sequences", running.size(), e);
            for (Sequence s : running) finish(s, FinishReason.ERROR, e);
            running.clear();
            return;
        }
        List<Sequence> batch = List.copyOf(running);
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = batch.get(i);
            s.computed = s.length;
            if (advance(s, logits[i])) running.remove(s);
        }
    }

    /** Samples, emits, and returns true when the sequence finished (its blocks are then released). */
    private boolean advance(Sequence s, float[] logits) {
        Sampler.Sample sample = s.sampler.next(logits);
        int token = sample.token();
        s.append(token);
        var params = s.request.sampling();
        boolean constraintDone = s.request.constraint() != null && s.request.constraint().isComplete() && token == eosId;
        boolean stopToken = (!params.ignoreEos() && token == eosId) || params.stopTokenIds().contains(token) || constraintDone;
        String text = stopToken ? "" : s.stops.accept(s.request.text().append(token));
        FinishReason finish = null;
        if (stopToken || s.stops.matched()) finish = FinishReason.STOP;
        else if (s.generated >= params.maxTokens() || s.length >= options.maxContext()) finish = FinishReason.LENGTH;
        if (finish != null && !s.stops.matched()) text += s.stops.accept(s.request.text().flush()) + s.stops.flush();
        if (finish != null) release(s);
        return !emit(s, new TokenEvent(token, text, sample, finish, null)) || finish != null;
    }

    private void finish(Sequence s, FinishReason reason, Throwable error) {
        release(s);
        emit(s, new TokenEvent(-1, "", null, reason, error));
    }

    private void release(Sequence s) {
        pool.release(s.blockTable, s.blocks);
        s.blocks = 0;
    }

    /** Delivers an event; a listener that throws is treated as a client gone away: cancelled. */
    private boolean emit(Sequence s, TokenEvent event) {
        try {
            s.listener.accept(event);
            return true;
        } catch (RuntimeException e) {
            log.debug("listener failed, cancelling its sequence", e);
            if (!event.isLast()) {
                release(s);
                s.cancel();
            }
            return false;
        }
    }

    /** KV blocks currently free (all of them once every sequence finished). */
    public int freeBlocks() {
        return freeBlocks;
    }

    public int totalBlocks() {
        return pool.total();
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
