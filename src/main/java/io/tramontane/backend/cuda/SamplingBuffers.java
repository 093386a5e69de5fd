package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Stream;
import io.tramontane.sampling.DrawRequest;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The sampling op's per-step memory: the draws are written to pinned host memory and copied asynchronously on the
 * backend's stream, so enqueueing them does not wait for the forward already queued (a synchronous upload would);
 * the ids come back through pinned memory in the step's one synchronous copy. One call at a time: a call writes the
 * pinned draws only after the previous call read its ids, by which time that call's copy has run. Grown as batches
 * grow; freed with the backend's arena.
 */
final class SamplingBuffers {
    private final CudaDriver driver;
    private final DeviceArena arena;
    private int capacity;  // rows
    private MemorySegment hostDraws, hostIds;
    private DeviceBuffer draws, ids;

    SamplingBuffers(CudaDriver driver, DeviceArena arena) {
        this.driver = driver;
        this.arena = arena;
    }

    /** Enqueues the copy of {@code rows}' parameters (SamplingKernels.PARAMS doubles each) and returns their device copy. */
    DeviceBuffer draws(List<DrawRequest> rows, Stream stream) {
        reserve(rows.size());
        int[] words = SamplingKernels.parameters(rows);
        MemorySegment host = hostDraws.asSlice(0, words.length * (long) Integer.BYTES);
        MemorySegment.copy(words, 0, host, JAVA_INT, 0, words.length);
        DeviceBuffer device = draws.slice(0, host.byteSize());
        driver.copyToDeviceAsync(device, host, stream);
        return device;
    }

    /** The device ids of {@code rows} rows. */
    DeviceBuffer ids(int rows) {
        reserve(rows);
        return ids.slice(0, rows * (long) Integer.BYTES);
    }

    /** Waits for the stream to reach the ids and copies them back: the step's only synchronisation. */
    int[] read(int rows) {
        MemorySegment host = hostIds.asSlice(0, rows * (long) Integer.BYTES);
        driver.copyToHost(host, ids(rows));
        return host.toArray(JAVA_INT);
    }

    private void reserve(int rows) {
        if (rows <= capacity) return;
        int grown = Math.max(64, Integer.highestOneBit(rows) << 1);
        long drawBytes = grown * (long) SamplingKernels.PARAMS * Double.BYTES, idBytes = grown * (long) Integer.BYTES;
        hostDraws = arena.allocatePinned(drawBytes);
        hostIds = arena.allocatePinned(idBytes);
        draws = arena.allocate(drawBytes);
        ids = arena.allocate(idBytes);
        capacity = grown;
    }
}
