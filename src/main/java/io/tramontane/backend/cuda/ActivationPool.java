package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import java.lang.ref.Cleaner;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Device memory for activations. The Backend interface has no way to free an activation (the model allocates
 * its temporaries per forward and drops them), so a buffer goes back to a free list of its power-of-two size
 * class when its {@link CudaActivation} becomes unreachable, and the next forward reuses it. Reuse is safe without
 * waiting for the GPU because every kernel and copy of a backend runs in order on one stream. When the memory held
 * exceeds the budget the pool asks for a collection (as direct ByteBuffers do) before allocating more.
 * Raw buffers belong to the backend's arena and are freed when it closes.
 */
final class ActivationPool {
    /** Bytes past every activation that kernels must not touch (poisoned and inspected by the GPU checks). */
    static final long GUARD_BYTES = 256;
    private static final long MIN_CLASS = 512;
    private static final Cleaner CLEANER = Cleaner.create();

    private final DeviceArena arena;
    private final long budget;
    private final Map<Long, Queue<DeviceBuffer>> free = new ConcurrentHashMap<>();
    private long held;

    ActivationPool(DeviceArena arena, long budgetBytes) {
        this.arena = arena;
        this.budget = budgetBytes;
    }

    CudaActivation allocate(int rows, int cols) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("activation shape " + rows + "x" + cols);
        long bytes = Math.multiplyExact((long) rows * cols, Float.BYTES);
        long sizeClass = sizeClass(bytes + GUARD_BYTES);
        Queue<DeviceBuffer> list = free.computeIfAbsent(sizeClass, c -> new ConcurrentLinkedQueue<>());
        DeviceBuffer raw = list.poll();
        if (raw == null && held + sizeClass > budget) raw = reclaim(list);
        if (raw == null) {
            raw = arena.allocate(sizeClass);
            held += sizeClass;
        }
        CudaActivation activation = new CudaActivation(raw.slice(0, bytes), raw, rows, cols);
        DeviceBuffer returned = raw;  // the cleaning action must not capture the activation itself
        CLEANER.register(activation, () -> list.add(returned));
        return activation;
    }

    /** Device bytes held by the pool, in use or free. */
    long heldBytes() {
        return held;
    }

    static long sizeClass(long bytes) {
        return Math.max(MIN_CLASS, Long.highestOneBit(bytes - 1) << 1);
    }

    /** Over budget: lets the collector return unreachable activations, then tries the free list again. */
    private static DeviceBuffer reclaim(Queue<DeviceBuffer> list) {
        for (int attempt = 0; attempt < 3; attempt++) {
            System.gc();
            try {
                Thread.sleep(1L << attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            DeviceBuffer raw = list.poll();
            if (raw != null) return raw;
        }
        return null;  // allocate beyond the budget; the driver reports real exhaustion
    }
}
