package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pool covers every index once, lets idle threads finish a lagging one's share, passes failures on, keeps working
 * after them, and allocates nothing per call.
 */
class CpuThreadsTest {

    @ParameterizedTest(name = "{0} threads")
    @ValueSource(ints = {1, 2, 3, 5})
    void everyIndexRunsExactlyOnceInContiguousGrainAlignedChunks(int threadCount) {
        SplittableRandom random = new SplittableRandom(threadCount);
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            for (int call = 0; call < 2000; call++) {
                int n = random.nextInt(0, 300), grain = random.nextInt(1, 9);
                AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                threads.parallelFor(n, grain, (from, to) -> {
                    assertThat(from).isLessThanOrEqualTo(to);
                    if (from != 0) assertThat(from % grain).as("chunk start aligned to the grain").isZero();
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("call %d index %d of %d", call, i, n).isEqualTo(1);
            }
        }
    }

    @ParameterizedTest(name = "{0} threads")
    @ValueSource(ints = {2, 3})
    void theOthersFinishALaggingThreadsShare(int threadCount) throws InterruptedException {
        int n = 64 * threadCount, lastShare = n - 64;
        CountDownLatch stolen = new CountDownLatch(1);
        AtomicBoolean lagged = new AtomicBoolean();
        AtomicIntegerArray hits = new AtomicIntegerArray(n);
        try (CpuThreads threads = new CpuThreads(threadCount)) {
            threads.parallelFor(n, 1, (from, to) -> {
                if (from == lastShare) {  // the last share's first piece stalls until another thread takes from its back
                    try {
                        lagged.set(stolen.await(10, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                } else if (from > lastShare) {
                    stolen.countDown();
                }
                for (int i = from; i < to; i++) hits.incrementAndGet(i);
            });
        }
        assertThat(lagged).as("another thread took pieces of the stalled share").isTrue();
        for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("index %d", i).isEqualTo(1);
    }

    /** The call number outgrows the 32 bits a join compares: workers still join the calls after it. */
    @Test
    void workersKeepJoiningPastTwoToTheThirtyTwoCalls() throws InterruptedException {
        try (CpuThreads threads = new CpuThreads(2, (1L << 32) - 3)) {
            for (int call = 0; call < 8; call++) {
                Thread caller = Thread.currentThread();
                CountDownLatch workerRan = new CountDownLatch(1);
                AtomicBoolean byWorker = new AtomicBoolean();
                threads.parallelFor(2, 1, (from, to) -> {
                    if (from == 0) {  // the caller's piece waits for the worker to take the other
                        try {
                            workerRan.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    } else {
                        byWorker.set(Thread.currentThread() != caller);
                        workerRan.countDown();
                    }
                });
                assertThat(byWorker).as("call %d: index 1 ran on the worker", call).isTrue();
            }
        }
    }

    @Test
    void aFailingChunkFailsTheCallAndThePoolKeepsWorking() {
        try (CpuThreads threads = new CpuThreads(3)) {
            assertThatThrownBy(() -> threads.parallelFor(90, 1, (from, to) -> {
                if (from > 0) throw new ArithmeticException("chunk at " + from);
            })).isInstanceOf(IllegalStateException.class).hasRootCauseInstanceOf(ArithmeticException.class);
            AtomicIntegerArray hits = new AtomicIntegerArray(90);
            threads.parallelFor(90, 1, (from, to) -> {
                for (int i = from; i < to; i++) hits.incrementAndGet(i);
            });
            for (int i = 0; i < 90; i++) assertThat(hits.get(i)).isEqualTo(1);
        }
    }

    @Test
    void aCallAllocatesNothing() {
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] data = new float[4096];
        CpuThreads.RangeBody body = (from, to) -> {
            for (int i = from; i < to; i++) data[i] += 1;
        };
        try (CpuThreads threads = new CpuThreads(2)) {
            for (int i = 0; i < 20_000; i++) threads.parallelFor(data.length, 64, body);  // compiled
            long before = bean.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 1000; i++) threads.parallelFor(data.length, 64, body);
            long after = bean.getCurrentThreadAllocatedBytes();
            assertThat(after - before).as("bytes allocated by the caller over 1000 calls").isLessThan(1000);
        }
        assertThat(data[0]).isEqualTo(21_000f);
    }

    @Test
    void aClosedPoolRefusesWork() {
        CpuThreads threads = new CpuThreads(2);
        threads.close();
        assertThatThrownBy(() -> threads.parallelFor(100, 1, (from, to) -> {})).hasMessageContaining("closed");
    }
}
