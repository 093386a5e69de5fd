package io.tramontane.backend.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A fixed pool that splits a range statically into one contiguous chunk per thread: no per-row tasks,
 * predictable memory streams per core. The calling thread runs the first chunk itself.
 */
final class CpuThreads implements AutoCloseable {

    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService pool;

    CpuThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, runnable -> {
            Thread t = new Thread(runnable, "tramontane-cpu");
            t.setDaemon(true);
            return t;
        });
    }

    int threads() {
        return threads;
    }

    /** Runs {@code body} over {@code [0, n)} split into at most {@code threads} chunks aligned to {@code grain}. */
    void parallelFor(int n, int grain, RangeBody body) {
        int chunks = Math.min(threads, Math.max(1, n / Math.max(grain, 1)));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        CountDownLatch done = new CountDownLatch(chunks - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int c = 1; c < chunks; c++) {
            int from = bound(n, chunks, c, grain), to = bound(n, chunks, c + 1, grain);
            pool.execute(() -> {
                try {
                    body.run(from, to);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        body.run(0, bound(n, chunks, 1, grain));
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for CPU workers", e);
        }
        if (failure.get() != null) throw new IllegalStateException("CPU worker failed", failure.get());
    }

    private static int bound(int n, int chunks, int c, int grain) {
        if (c >= chunks) return n;
        long raw = (long) n * c / chunks;
        return (int) Math.min(n, (raw + grain - 1) / grain * grain);
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }
}
