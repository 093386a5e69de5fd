package io.tramontane.server;

import java.time.Duration;
import org.eclipse.jetty.server.Request;

/**
 * One generation request in flight, from the handler's side: its choices' events in arrival order, the
 * request deadline, cancellation when the client goes away, and the latency metrics. Closing it cancels
 * whatever still runs, so every way out of a handler frees the engine's sequences.
 */
final class RequestRun implements AutoCloseable {
    private final GenerationFeed feed;
    private final ServerMetrics metrics;
    private final long start;
    private final long deadline;
    private final Duration timeout;
    private final long[] lastToken;
    private boolean started;

    RequestRun(Request request, int choices, GenerationFeed.Starter starter, int promptTokens, Duration timeout,
               ServerMetrics metrics) {
        this.metrics = metrics;
        this.timeout = timeout;
        this.start = request.getHeadersNanoTime();
        this.deadline = start + timeout.toNanos();
        this.lastToken = new long[choices];
        this.feed = new GenerationFeed(choices, starter);
        metrics.submitted(promptTokens);
        // a connection that fails (client gone, idle timeout) cancels the generation even while nothing is written
        request.addFailureListener(failure -> feed.cancel());
    }

    /** The next event of any choice, or null once every choice ended; 408 when the deadline passes first. */
    GenerationFeed.Event next() throws InterruptedException {
        if (!feed.running()) return null;
        GenerationFeed.Event event = feed.next(deadline);
        if (event == null) {
            feed.cancel();
            throw ApiError.timeout(timeout.toSeconds());
        }
        if (event.event().token() >= 0) {
            if (!started) {
                started = true;
                metrics.firstToken((event.nanos() - start) / 1e9);
            }
            long previous = lastToken[event.choice()];
            metrics.token(previous == 0 ? -1 : (event.nanos() - previous) / 1e9);
            lastToken[event.choice()] = event.nanos();
        }
        return event;
    }

    @Override
    public void close() {
        feed.cancel();
        metrics.finished(started, (System.nanoTime() - start) / 1e9);
    }
}
