package io.tramontane.cuda;

import java.lang.foreign.MemorySegment;

/** A CUDA graph captured from a stream ({@code CUgraph}, an opaque driver handle). */
public record Graph(MemorySegment handle) {
    public Graph {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalArgumentException("null CUgraph");
    }
}
