package io.tramontane.api;

import io.tramontane.engine.Generation;
import io.tramontane.engine.TokenEvent;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Bridges engine events to a {@link Flow.Subscriber} with its demand: events queue without ever
 * blocking the engine thread and are delivered in order, on a virtual thread, as they are requested.
 */
final class TokenSubscription implements Flow.Subscription {
    private final Flow.Subscriber<? super TokenEvent> subscriber;
    private final ConcurrentLinkedQueue<TokenEvent> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong demand = new AtomicLong();
    private final AtomicInteger drainers = new AtomicInteger();
    private final Generation generation;
    private volatile boolean done;

    TokenSubscription(Flow.Subscriber<? super TokenEvent> subscriber, Function<Consumer<TokenEvent>, Generation> start) {
        this.subscriber = subscriber;
        subscriber.onSubscribe(this);
        this.generation = start.apply(event -> {
            queue.add(event);
            signal();
        });
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            cancel();
            subscriber.onError(new IllegalArgumentException("request(" + n + "): demand must be positive (rule 3.9)"));
            return;
        }
        demand.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
        signal();
    }

    @Override
    public void cancel() {
        done = true;
        if (generation != null) generation.cancel();
    }

    private void signal() {
        if (drainers.getAndIncrement() == 0) Thread.ofVirtual().start(this::drain);
    }

    private void drain() {
        do {
            while (!done && demand.get() > 0) {
                TokenEvent event = queue.poll();
                if (event == null) break;
                demand.decrementAndGet();
                subscriber.onNext(event);
                if (event.isLast()) {
                    done = true;
                    if (event.error() != null) subscriber.onError(event.error());
                    else subscriber.onComplete();
                }
            }
        } while (drainers.decrementAndGet() != 0);
    }
}
