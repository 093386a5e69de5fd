package io.tramontane.nccl;

import java.lang.foreign.MemorySegment;

/** One rank's communicator ({@code ncclComm_t}): rank {@code rank} of {@code ranks}, on CUDA device {@code device}. */
public record NcclComm(MemorySegment handle, int rank, int ranks, int device) {
    public NcclComm {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalArgumentException("null ncclComm_t");
        if (rank < 0 || rank >= ranks) throw new IllegalArgumentException("rank " + rank + " of " + ranks);
    }
}
