package io.tramontane.server;

import io.tramontane.engine.Generation;
import io.tramontane.engine.TokenEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The generations of one request's choices, seen by the HTTP thread as one queue of events. The engine
 * thread only appends to the queue (its listeners must never block); the request's virtual thread takes
 * from it. {@link #cancel()} ends every choice still running, which frees its KV blocks.
 */
final class GenerationFeed {
    /** One engine event of one choice, with when it arrived (for latency metrics). */
    record Event(int choice, TokenEvent event, long nanos) {}

    private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
    private final List<Generation> generations = new ArrayList<>();
    private int running;

    /** Starts {@code choices} generations through {@code starter}. */
    GenerationFeed(int choices, Starter starter) {
        for (int i = 0; i < choices; i++) {
            int choice = i;
            Consumer<TokenEvent> listener = event -> queue.add(new Event(choice, event, System.nanoTime()));
            try {
                generations.add(starter.start(choice, listener));
            } catch (RuntimeException e) {
                cancel();
                throw e;
            }
            running++;
        }
    }

    /** Starts choice {@code choice} of the request with {@code listener}. */
    @FunctionalInterface
    interface Starter {
        Generation start(int choice, Consumer<TokenEvent> listener);
    }

    /** True while a choice has not delivered its last event. */
    boolean running() {
        return running > 0;
    }

    /** The next event, or null when {@code deadlineNanos} passed first. */
    Event next(long deadlineNanos) throws InterruptedException {
        Event event = queue.poll(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (event != null && event.event().isLast()) running--;
        return event;
    }

    void cancel() {
        for (Generation generation : generations) generation.cancel();
    }
}
