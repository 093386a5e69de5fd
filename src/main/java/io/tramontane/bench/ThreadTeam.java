package io.tramontane.bench;

import java.util.concurrent.CountDownLatch;

/**
 * Runs one task on {@code n} platform threads released together and times the whole team: a
 * machine limit is what all threads achieve at once, not the sum of their separate runs.
 */
final class ThreadTeam {
    private ThreadTeam() {}

    /** The work of thread {@code index} of {@code count}; returns a value that keeps the JIT from dropping it. */
    interface Work {
        double run(int index, int count);
    }

    /** Wall time in nanoseconds from the common start until the last thread finished. */
    static long time(int threads, Work work, double[] sink) {
        CountDownLatch ready = new CountDownLatch(threads), start = new CountDownLatch(1);
        Thread[] team = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int index = t;
            team[t] = Thread.ofPlatform().name("bench-" + t).start(() -> {
                ready.countDown();
                awaitUninterruptibly(start);
                sink[index] += work.run(index, threads);
            });
        }
        awaitUninterruptibly(ready);
        long begin = System.nanoTime();
        start.countDown();
        for (Thread thread : team) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while timing", e);
            }
        }
        return System.nanoTime() - begin;
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
