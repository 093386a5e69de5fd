package io.tramontane.cuda;

import java.lang.foreign.MemorySegment;

/** An instantiated CUDA graph, launchable on a stream ({@code CUgraphExec}, an opaque driver handle). */
public record GraphExec(MemorySegment handle) {
    public GraphExec {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalArgumentException("null CUgraphExec");
    }
}
