package io.tramontane.cuda;

/** Grid, block and dynamic shared memory of one kernel launch. */
public record LaunchConfig(Dim3 grid, Dim3 block, int sharedBytes) {
    public LaunchConfig {
        if (sharedBytes < 0) throw new IllegalArgumentException("negative dynamic shared memory: " + sharedBytes);
        long threads = (long) block.x() * block.y() * block.z();
        if (threads > 1024) throw new IllegalArgumentException("more than 1024 threads per block: " + block);
    }
}
