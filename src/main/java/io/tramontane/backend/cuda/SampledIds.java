package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import java.lang.foreign.MemorySegment;

/**
 * Where the sampling op's ids go: a device buffer the kernel writes and page-locked host memory they come back
 * through, in the step's one synchronous copy. Grown as batches grow; freed with the backend's arena.
 */
final class SampledIds {
    private final CudaDriver driver;
    private final DeviceArena arena;
    private int capacity;  // rows
    private MemorySegment host;
    private DeviceBuffer device;

    SampledIds(CudaDriver driver, DeviceArena arena) {
        this.driver = driver;
        this.arena = arena;
    }

    /** The device ids of {@code rows} rows. */
    DeviceBuffer ids(int rows) {
        reserve(rows);
        return device.slice(0, rows * (long) Integer.BYTES);
    }

    /** Waits for the stream to reach the ids and copies them back: the step's only synchronisation. */
    int[] read(int rows) {
        MemorySegment ids = host.asSlice(0, rows * (long) Integer.BYTES);
        driver.copyToHost(ids, ids(rows));
        return ids.toArray(JAVA_INT);
    }

    private void reserve(int rows) {
        if (rows <= capacity) return;
        int grown = Math.max(64, Integer.highestOneBit(rows) << 1);
        host = arena.allocatePinned(grown * (long) Integer.BYTES);
        device = arena.allocate(grown * (long) Integer.BYTES);
        capacity = grown;
    }
}
