package io.tramontane.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Owns device and pinned host allocations and frees all of them, newest first, on {@link #close()}: nothing
 * waits for a garbage collector. Not thread-safe; the context it allocates in must be current while it is used.
 */
public final class DeviceArena implements AutoCloseable {
    private final CudaDriver driver;
    private final Deque<DeviceBuffer> device = new ArrayDeque<>();
    private final Deque<MemorySegment> pinned = new ArrayDeque<>();
    private long deviceBytes;
    private boolean closed;

    public DeviceArena(CudaDriver driver) {
        this.driver = driver;
    }

    /** {@code bytes} of device memory (uninitialised, 256-byte aligned), freed when this arena closes. */
    public DeviceBuffer allocate(long bytes) {
        requireOpen();
        DeviceBuffer buffer = driver.memAlloc(bytes);
        device.push(buffer);
        deviceBytes += bytes;
        return buffer;
    }

    /** {@code bytes} of page-locked host memory, freed when this arena closes. */
    public MemorySegment allocatePinned(long bytes) {
        requireOpen();
        MemorySegment segment = driver.memAllocHost(bytes);
        pinned.push(segment);
        return segment;
    }

    /** Device bytes currently owned. */
    public long deviceBytes() {
        return deviceBytes;
    }

    /**
     * Frees every allocation, newest first. A failing free does not stop the others: the first failure is
     * thrown afterwards with later ones suppressed. Idempotent.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        RuntimeException failure = null;
        while (!device.isEmpty()) failure = attempt(failure, () -> driver.memFree(device.pop()));
        while (!pinned.isEmpty()) failure = attempt(failure, () -> driver.memFreeHost(pinned.pop()));
        deviceBytes = 0;
        if (failure != null) throw failure;
    }

    private static RuntimeException attempt(RuntimeException failure, Runnable free) {
        try {
            free.run();
        } catch (RuntimeException e) {
            if (failure == null) return e;
            failure.addSuppressed(e);
        }
        return failure;
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("device arena is closed");
    }
}
