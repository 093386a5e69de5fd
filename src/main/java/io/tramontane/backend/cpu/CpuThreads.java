package io.tramontane.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of worker threads that split a range statically into one contiguous chunk per thread: no
 * per-row tasks, predictable memory streams per core, and nothing allocated per call (a decode step makes
 * ~150 of them). The calling thread runs the first chunk itself; workers wait parked between calls after a
 * short spin, so back-to-back calls of one step wake them cheaply.
 */
final class CpuThreads implements AutoCloseable {

    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    /** Spins before parking: about the gap between two ops of a decode step. */
    private static final int SPIN_NANOS = 50_000;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock calls = new ReentrantLock();  // one parallelFor at a time

    // the current call, published by the volatile write of `ticket` (call number << 16 | chunks): a worker
    // reads the fields only when its chunk takes part, and the caller does not rewrite them before every
    // taking part has finished
    private RangeBody body;
    private int n, grain, chunks;
    private Thread caller;
    private volatile Throwable failure;
    private volatile long ticket;
    private volatile boolean closed;
    private final AtomicInteger pending = new AtomicInteger();

    CpuThreads(int threads) {
        if (threads < 1 || threads > 0xFFFF) throw new IllegalArgumentException("threads must be in [1, 65535], got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int w = 0; w < workers.length; w++) {
            int chunk = w + 1;
            workers[w] = Thread.ofPlatform().name("tramontane-cpu-" + chunk).daemon().start(() -> work(chunk));
        }
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
        calls.lock();
        try {
            if (closed) throw new IllegalStateException("CPU threads are closed");
            this.body = body;
            this.n = n;
            this.grain = grain;
            this.chunks = chunks;
            this.caller = Thread.currentThread();
            this.failure = null;
            pending.set(chunks - 1);
            ticket = ((ticket >>> 16) + 1) << 16 | chunks;  // publishes the fields above to the workers
            for (int w = 0; w < chunks - 1; w++) LockSupport.unpark(workers[w]);
            try {
                body.run(0, bound(n, chunks, 1, grain));
            } catch (Throwable t) {
                if (failure == null) failure = t;
            }
            awaitWorkers();
            this.body = null;
            Throwable t = failure;
            if (t != null) throw new IllegalStateException("CPU worker failed", t);
        } finally {
            calls.unlock();
        }
    }

    private void awaitWorkers() {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (pending.get() > 0) {
            if (System.nanoTime() < spinUntil) Thread.onSpinWait();
            else LockSupport.park(this);
        }
    }

    private void work(int chunk) {
        long seen = 0;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (ticket == seen && !closed) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = ticket;
            if (chunk >= (seen & 0xFFFF)) continue;  // this call has fewer chunks than threads
            try {
                body.run(bound(n, chunks, chunk, grain), bound(n, chunks, chunk + 1, grain));
            } catch (Throwable t) {
                if (failure == null) failure = t;
            }
            if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
        }
    }

    private static int bound(int n, int chunks, int c, int grain) {
        if (c >= chunks) return n;
        long raw = (long) n * c / chunks;
        return (int) Math.min(n, (raw + grain - 1) / grain * grain);
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
