package io.tramontane.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives an OpenAI-compatible server with streamed requests, one level after another, each request on
 * its own virtual thread. A concurrency level keeps exactly {@code c} requests in flight (closed loop:
 * the server's speed sets the arrival rate); a rate level starts requests at Poisson arrival times
 * whatever the server does (open loop: queueing shows up as TTFT).
 */
public final class LoadGenerator {
    private final StreamingClient client;
    private final ServeWorkload workload;

    public LoadGenerator(StreamingClient client, ServeWorkload workload) {
        this.client = client;
        this.workload = workload;
    }

    /** Sends {@code n} requests one at a time and forgets them: connections open, server and client JIT warm. */
    public void warmUp(int n) {
        for (var request : workload.next(n)) client.send(request);
    }

    public LoadLevel atConcurrency(int concurrency, int requests) {
        var queue = workload.next(requests);
        var results = new StreamingClient.Result[requests];
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int w = 0; w < concurrency; w++) {
                threads.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < requests; ) results[i] = client.send(queue.get(i));
                });
            }
        }
        return LoadLevel.of(concurrency, null, Arrays.asList(results), (System.nanoTime() - start) * 1e-9);
    }

    public LoadLevel atRate(double perSecond, int requests, long seed) {
        var queue = workload.next(requests);
        SplittableRandom random = new SplittableRandom(seed);
        List<Future<StreamingClient.Result>> pending = new ArrayList<>(requests);
        long start = System.nanoTime(), arrival = start;
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var request : queue) {
                // exponential gaps: the arrivals of a Poisson process, scheduled from the start so sleep errors do not add up
                arrival += (long) (-Math.log(1 - random.nextDouble()) / perSecond * 1e9);
                for (long wait; (wait = arrival - System.nanoTime()) > 0; ) LockSupport.parkNanos(wait);
                pending.add(threads.submit(() -> client.send(request)));
            }
        }
        List<StreamingClient.Result> results = pending.stream().map(Future::resultNow).toList();
        return LoadLevel.of(null, perSecond, results, (System.nanoTime() - start) * 1e-9);
    }
}
