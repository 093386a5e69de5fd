package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Stream;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The device copy of one kind of small per-call host array (token ids, RoPE tables, an attention plan). The
 * model passes the same content to every layer of a forward, so the copy is made only when the content changes:
 * one upload per forward instead of one per layer.
 *
 * <p>Copies are asynchronous on the backend's stream, from page-locked staging memory, so a forward never waits
 * for the device to drain before it can upload (only reading results back waits). Staging is used front to back;
 * each copy gets its own bytes, since earlier copies may still be pending; when it runs out, the stream is drained
 * once and staging starts over. Stream order keeps a kernel enqueued before a copy from seeing the new content.
 */
final class DeviceUpload {
    static final long STAGING_BYTES = 1L << 20;

    private final CudaDriver driver;
    private final DeviceArena arena;
    private final Stream stream;
    private final Runnable beforeWait;
    private DeviceBuffer buffer;
    private MemorySegment staging;
    private long staged;
    private int[] ints;
    private float[] floats;

    /** @param beforeWait run before this waits for {@code stream} (a captured step must be launched first) */
    DeviceUpload(CudaDriver driver, DeviceArena arena, Stream stream, Runnable beforeWait) {
        this.driver = driver;
        this.arena = arena;
        this.stream = stream;
        this.beforeWait = beforeWait;
    }

    /** Forgets the last content: a copy that was captured but never launched did not happen. */
    void forget() {
        ints = null;
        floats = null;
    }

    DeviceBuffer ints(int[] values) {
        if (values.equals(ints) || Arrays.equals(values, ints)) return buffer.slice(0, values.length * (long) Integer.BYTES);
        floats = null;
        ints = null;
        long bytes = values.length * (long) Integer.BYTES;
        DeviceBuffer dst = capacity(bytes);
        if (bytes > 0) {
            MemorySegment src = stage(bytes);
            MemorySegment.copy(values, 0, src, JAVA_INT, 0, values.length);
            driver.copyToDeviceAsync(dst, src, stream);
        }
        ints = values.clone();
        return dst;
    }

    DeviceBuffer floats(float[] values, int count) {
        float[] used = count == values.length ? values : Arrays.copyOf(values, count);
        if (Arrays.equals(used, floats)) return buffer.slice(0, count * (long) Float.BYTES);
        floats = null;
        ints = null;
        long bytes = count * (long) Float.BYTES;
        DeviceBuffer dst = capacity(bytes);
        if (bytes > 0) {
            MemorySegment src = stage(bytes);
            MemorySegment.copy(used, 0, src, JAVA_FLOAT, 0, count);
            driver.copyToDeviceAsync(dst, src, stream);
        }
        floats = used == values ? values.clone() : used;
        return dst;
    }

    /** {@code bytes} of staging no pending copy reads: the next ones, or all of it again once the stream drained. */
    private MemorySegment stage(long bytes) {
        long aligned = (bytes + 15) & ~15L;
        if (staging == null || staged + aligned > staging.byteSize()) {
            if (staging != null) {
                beforeWait.run();
                driver.streamSynchronize(stream);  // every earlier copy has read its bytes
            }
            if (staging == null || aligned > staging.byteSize()) {
                staging = arena.allocatePinned(Math.max(STAGING_BYTES, Long.highestOneBit(aligned) << 1));
            }
            staged = 0;
        }
        MemorySegment slice = staging.asSlice(staged, bytes);
        staged += aligned;
        return slice;
    }

    /** The first {@code bytes} of the buffer, grown geometrically; outgrown buffers stay in the arena until it closes. */
    private DeviceBuffer capacity(long bytes) {
        if (buffer == null || buffer.bytes() < bytes) buffer = arena.allocate(Math.max(1024, Long.highestOneBit(Math.max(bytes, 1)) << 1));
        return buffer.slice(0, bytes);
    }
}
