package io.tramontane.cuda;

import java.lang.foreign.MemorySegment;

/** A cuBLASLt library handle ({@code cublasLtHandle_t}, opaque), from {@link CublasLt#create()}. */
public record CublasLtHandle(MemorySegment handle) {
    public CublasLtHandle {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalArgumentException("null cublasLtHandle_t");
    }
}
