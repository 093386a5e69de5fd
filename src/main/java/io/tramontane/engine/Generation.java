package io.tramontane.engine;

/** A submitted request: cancel it at any time; its listener then receives a final CANCELLED event. */
public interface Generation {
    void cancel();

    boolean isCancelled();
}
