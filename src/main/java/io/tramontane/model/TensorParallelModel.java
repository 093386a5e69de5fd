package io.tramontane.model;

import io.tramontane.sampling.DrawRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A tensor-parallel group: one {@link Model} per rank, all running the same step at once and meeting
 * in the backend's collective. Every rank ends with the full logits; rank 0 reads or samples them.
 */
public final class TensorParallelModel implements LanguageModel {
    private final List<Model> ranks;
    private final Runnable abort;
    private final ExecutorService workers;

    /** {@code abort} releases ranks blocked in the collective when one of them fails. */
    public TensorParallelModel(List<Model> ranks, Runnable abort) {
        if (ranks.size() < 2) throw new IllegalArgumentException("a tensor-parallel group needs >= 2 ranks");
        this.ranks = List.copyOf(ranks);
        this.abort = abort;
        this.workers = Executors.newFixedThreadPool(ranks.size() - 1, runnable -> {
            Thread t = new Thread(runnable, "tramontane-tp-rank");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public ModelConfig config() {
        return ranks.getFirst().config();
    }

    @Override
    public int kvBlocks() {
        return ranks.getFirst().kvBlocks();
    }

    @Override
    public int blockSize() {
        return ranks.getFirst().blockSize();
    }

    @Override
    public float[][] forward(Step step) {
        return onRankZero(step, rank -> rank.forward(step));
    }

    /** Samples on rank 0 once the all-gather has given it every column; the other ranks' logits stay where they are. */
    @Override
    public int[] forwardAndSample(Step step, List<DrawRequest> draws) {
        return onRankZero(step, rank -> rank.forwardAndSample(step, draws));
    }

    /** Runs the step on every rank, {@code rankZero} on rank 0 and the bare forward on the others; rank 0's result. */
    private <T> T onRankZero(Step step, Function<Model, T> rankZero) {
        List<Future<?>> others = new ArrayList<>();
        for (Model rank : ranks.subList(1, ranks.size())) {
            others.add(workers.submit(() -> orAbort(() -> rank.logits(step))));
        }
        T result = orAbort(() -> rankZero.apply(ranks.getFirst()));
        for (Future<?> other : others) {
            try {
                other.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for tensor-parallel ranks", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("tensor-parallel rank failed: " + e.getCause().getMessage(), e.getCause());
            }
        }
        return result;
    }

    private <T> T orAbort(Supplier<T> work) {
        try {
            return work.get();
        } catch (RuntimeException | Error e) {
            abort.run();
            throw e;
        }
    }

    @Override
    public void close() {
        workers.shutdownNow();
        ranks.forEach(Model::close);
    }
}
