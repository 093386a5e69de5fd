package io.tramontane.cuda;

import java.lang.foreign.MemorySegment;

/** A loaded code image (fatbin, cubin or PTX) ({@code CUmodule}, an opaque driver handle). */
public record Module(MemorySegment handle) {
    public Module {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalArgumentException("null CUmodule");
    }
}
