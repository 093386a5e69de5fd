package io.tramontane.cuda;

import java.lang.foreign.MemorySegment;

/** A CUDA context ({@code CUcontext}, an opaque driver handle). */
public record Context(MemorySegment handle) {
    public Context {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalArgumentException("null CUcontext");
    }
}
