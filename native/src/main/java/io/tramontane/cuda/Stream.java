package io.tramontane.cuda;

import java.lang.foreign.MemorySegment;

/** A CUDA stream ({@code CUstream}); {@link #DEFAULT} is the legacy NULL stream of the current context. */
public record Stream(MemorySegment handle) {
    public static final Stream DEFAULT = new Stream(MemorySegment.NULL);

    /** Flag for {@link CudaDriver#streamCreate}: no implicit synchronisation with the NULL stream. */
    public static final int NON_BLOCKING = 0x1;
}
