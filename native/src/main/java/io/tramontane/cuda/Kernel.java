package io.tramontane.cuda;

import java.lang.foreign.MemorySegment;

/** A kernel of a loaded module ({@code CUfunction}, an opaque driver handle). */
public record Kernel(MemorySegment handle) {
    public Kernel {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalArgumentException("null CUfunction");
    }
}
