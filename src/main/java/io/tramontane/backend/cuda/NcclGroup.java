package io.tramontane.backend.cuda;

import io.tramontane.cuda.Cuda;
import io.tramontane.nccl.Nccl;
import io.tramontane.nccl.NcclComm;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The NCCL communicators of one tensor-parallel group in this process: rank r on CUDA device r. Each rank's
 * {@link CudaBackend} releases its own communicator when it closes; {@link #abort()} (a rank failed mid-step)
 * stops every rank's outstanding collectives so the others do not wait forever, after which the group is dead.
 */
public final class NcclGroup {
    private final Nccl nccl;
    private final List<NcclComm> comms;
    private final Set<NcclComm> released = new HashSet<>();
    private boolean aborted;

    private NcclGroup(Nccl nccl, List<NcclComm> comms) {
        this.nccl = nccl;
        this.comms = comms;
    }

    /**
     * Communicators for devices 0 .. ranks-1. IllegalStateException, in words, without a CUDA driver, without
     * NCCL, or with fewer devices than ranks.
     */
    public static NcclGroup create(int ranks) {
        if (ranks < 1) throw new IllegalArgumentException("tensor parallelism must be >= 1, got " + ranks);
        int devices = Cuda.driver().deviceCount();
        if (devices < ranks) {
            throw new IllegalStateException("tensor parallelism " + ranks + " needs " + ranks + " CUDA devices, found " + devices);
        }
        Nccl nccl = Nccl.load();
        int[] ordinals = new int[ranks];
        for (int r = 0; r < ranks; r++) ordinals[r] = r;
        return new NcclGroup(nccl, nccl.initAll(ordinals));
    }

    public int ranks() {
        return comms.size();
    }

    Nccl nccl() {
        return nccl;
    }

    NcclComm comm(int rank) {
        return comms.get(rank);
    }

    /** Aborts every communicator not yet released, once; safe from any thread while ranks are blocked. */
    public synchronized void abort() {
        if (aborted) return;
        aborted = true;
        for (NcclComm comm : comms) if (!released.contains(comm)) nccl.abort(comm);
    }

    synchronized boolean aborted() {
        return aborted;
    }

    /** Frees rank {@code comm}'s communicator after its outstanding work, unless the group was aborted (which freed it). */
    synchronized void release(NcclComm comm) {
        if (!aborted && released.add(comm)) nccl.destroy(comm);
    }
}
