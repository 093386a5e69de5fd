package io.tramontane.cuda;

import java.lang.foreign.MemorySegment;

/** A CUDA event, for timing and ordering work on streams ({@code CUevent}, an opaque driver handle). */
public record Event(MemorySegment handle) {
    public Event {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalArgumentException("null CUevent");
    }
}
