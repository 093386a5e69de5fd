package io.tramontane.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of worker threads that split a range into one contiguous share per thread: no per-row tasks,
 * one memory stream per core, nothing allocated per call (a decode step makes ~130 of them). Each thread eats its
 * own share from the front, in pieces that halve down to the grain; a thread whose share is done takes pieces of
 * one grain from the back of the others' shares. On this VM two equal halves finish up to a sixth apart (memory
 * bandwidth is not shared fairly call by call, and a vCPU is sometimes taken away for milliseconds): the late
 * share is finished by both, and a worker that wakes after the rest of a call is done takes no part in it: a call
 * waits only for the workers that joined it. The calling thread runs share 0 itself; workers spin between calls,
 * then park.
 */
final class CpuThreads implements AutoCloseable {

    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    /** Spins before parking: about the gap between two ops of a decode step. */
    private static final int SPIN_NANOS = 50_000;
    /** Longs between two shares' words: each on a cache line of its own (128 bytes, the adjacent-line prefetch pair). */
    private static final int PAD = 16;
    /** In {@link #entry}: set once the call takes no more workers; the low bits count those that joined. */
    private static final long CLOSED = 1L << 31;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock calls = new ReentrantLock();  // one parallelFor at a time

    // the current call, published by the volatile write of `ticket` (call number << 16 | chunks): a worker reads the
    // fields only after joining the call, and the caller does not rewrite them before every worker that joined is done
    private RangeBody body;
    private int grain, chunks;
    private volatile Throwable failure;
    private volatile long ticket;
    private volatile boolean closed, callerParked;
    private Thread caller;
    /** The call number's low 32 bits << 32 | {@link #CLOSED} | workers joined. */
    private final AtomicLong entry = new AtomicLong();
    private final AtomicInteger finished = new AtomicInteger();
    /** Share c's unclaimed indexes {@code [front, back)} at {@code c * PAD}, packed {@code front << 32 | back}. */
    private final AtomicLongArray shares;

    CpuThreads(int threads) {
        this(threads, 1);
    }

    /** With the first call numbered {@code firstCall} (tests: the wrap of the call number). */
    CpuThreads(int threads, long firstCall) {
        this.ticket = (firstCall - 1) << 16;
        if (threads < 1 || threads > 0xFFFF) throw new IllegalArgumentException("threads must be in [1, 65535], got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.shares = new AtomicLongArray(threads * PAD);
        for (int w = 0; w < workers.length; w++) {
            int chunk = w + 1;
            workers[w] = Thread.ofPlatform().name("tramontane-cpu-" + chunk).daemon().start(() -> work(chunk));
        }
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)}, every index once, in pieces that start at multiples of {@code grain}:
     * at most {@code threads} shares, each a thread's own unless it lags. {@code body} may be called several times
     * per thread and must not assume which thread runs which piece.
     */
    void parallelFor(int n, int grain, RangeBody body) {
        if (grain < 1) throw new IllegalArgumentException("grain must be >= 1, got " + grain);
        int chunks = Math.min(threads, Math.max(1, n / grain));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        calls.lock();
        try {
            if (closed) throw new IllegalStateException("CPU threads are closed");
            this.body = body;
            this.grain = grain;
            this.chunks = chunks;
            this.caller = Thread.currentThread();
            this.failure = null;
            for (int c = 0; c < chunks; c++) shares.set(c * PAD, (long) bound(n, chunks, c, grain) << 32 | bound(n, chunks, c + 1, grain));
            long call = (ticket >>> 16) + 1;
            finished.set(0);
            entry.set(call << 32);
            ticket = call << 16 | chunks;  // publishes the fields above to the workers
            for (int w = 0; w < chunks - 1; w++) LockSupport.unpark(workers[w]);
            runShares(0);
            awaitJoined((int) (entry.getAndAdd(CLOSED) & (CLOSED - 1)));
            this.body = null;
            Throwable t = failure;
            if (t != null) throw new IllegalStateException("CPU worker failed", t);
        } finally {
            calls.unlock();
        }
    }

    /** Waits for the {@code joined} workers of the call to finish (every share is claimed by now). */
    private void awaitJoined(int joined) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (finished.get() < joined) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                callerParked = true;
                if (finished.get() < joined) LockSupport.park(this);
                callerParked = false;
            }
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
            if (chunk >= (seen & 0xFFFF) || !join(seen >>> 16)) continue;  // not needed, or the call is over
            runShares(chunk);
            finished.incrementAndGet();
            if (callerParked) LockSupport.unpark(caller);
        }
    }

    /** Joins call {@code call} unless its caller has closed it (or a later call has begun). */
    private boolean join(long call) {
        while (true) {
            long e = entry.get();
            // entry keeps the call number's low 32 bits (a server makes 2^32 calls in days), the ticket 48
            if ((int) (e >>> 32) != (int) call || (e & CLOSED) != 0) return false;
            if (entry.compareAndSet(e, e + 1)) return true;
        }
    }

    /** Share {@code own} from the front, then the others' from the back; a failure ends this thread's part. */
    private void runShares(int own) {
        try {
            while (true) {
                long s = shares.get(own * PAD);
                int front = (int) (s >>> 32), back = (int) s;
                if (front >= back) break;
                int end = Math.min(back, front + Math.max(grain, (back - front) / 2 / grain * grain));
                if (shares.compareAndSet(own * PAD, s, (long) end << 32 | back)) body.run(front, end);
            }
            for (int k = 1; k < chunks; k++) {
                int other = (own + k) % chunks;
                while (true) {
                    long s = shares.get(other * PAD);
                    int front = (int) (s >>> 32), back = (int) s;
                    if (front >= back) break;
                    int start = Math.max(front, (back - 1) / grain * grain);
                    if (shares.compareAndSet(other * PAD, s, (long) front << 32 | start)) body.run(start, back);
                }
            }
        } catch (Throwable t) {
            if (failure == null) failure = t;
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
