package io.tramontane.backend.cpu;

import io.tramontane.host.HugePages;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A stored linear copied at load into memory of the backend's own on 2 MB pages ({@link CpuWeights#COPIED}): its rows
 * contiguous in the order of the view (a tensor-parallel slice or the q/k RoPE permutation become a plain matrix), in
 * the checkpoint's dtype, so the kernels read it exactly as they read the mapped one.
 */
final class LinearCopy {
    private static final int ROWS_PER_TASK = 64;

    private LinearCopy() {}

    static Tensor of(Tensor weight, CpuThreads threads, Arena arena) {
        if (weight.rows() > Integer.MAX_VALUE) throw new IllegalArgumentException("cannot copy " + weight + ": more than 2^31 rows");
        long rowBytes = weight.cols() * weight.dtype().bits() / 8;
        MemorySegment copy = HugePages.allocate(arena, weight.rows() * rowBytes);
        threads.parallelFor((int) weight.rows(), ROWS_PER_TASK, (from, to) -> {
            for (int r = from; r < to; r++) MemorySegment.copy(weight.storage(), weight.rowByteOffset(r), copy, r * rowBytes, rowBytes);
        });
        return Tensor.of(weight.name(), weight.dtype(), new long[] {weight.rows(), weight.cols()}, copy);
    }
}
