package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The device copy of one kind of small per-call host array (token ids, RoPE tables, an attention plan). The
 * model passes the same content to every layer of a forward, so the copy is made only when the content changes:
 * one upload per forward instead of one per layer. A synchronous copy on the backend's (legacy default) stream
 * starts after the kernels enqueued before it, so a kernel still reading the old content is never overwritten.
 */
final class DeviceUpload {
    private final CudaDriver driver;
    private final DeviceArena arena;
    private DeviceBuffer buffer;
    private int[] ints;
    private float[] floats;

    DeviceUpload(CudaDriver driver, DeviceArena arena) {
        this.driver = driver;
        this.arena = arena;
    }

    DeviceBuffer ints(int[] values) {
        if (values.equals(ints) || Arrays.equals(values, ints)) return buffer.slice(0, values.length * (long) Integer.BYTES);
        floats = null;
        ints = null;
        DeviceBuffer dst = capacity(values.length * (long) Integer.BYTES);
        if (values.length > 0) {
            try (Arena host = Arena.ofConfined()) {
                driver.copyToDevice(dst, host.allocateFrom(JAVA_INT, values));
            }
        }
        ints = values.clone();
        return dst;
    }

    DeviceBuffer floats(float[] values, int count) {
        float[] used = count == values.length ? values : Arrays.copyOf(values, count);
        if (Arrays.equals(used, floats)) return buffer.slice(0, count * (long) Float.BYTES);
        floats = null;
        ints = null;
        DeviceBuffer dst = capacity(count * (long) Float.BYTES);
        if (count > 0) {
            try (Arena host = Arena.ofConfined()) {
                MemorySegment segment = host.allocate(JAVA_FLOAT, count);
                MemorySegment.copy(used, 0, segment, JAVA_FLOAT, 0, count);
                driver.copyToDevice(dst, segment);
            }
        }
        floats = used == values ? values.clone() : used;
        return dst;
    }

    /** The first {@code bytes} of the buffer, grown geometrically; outgrown buffers stay in the arena until it closes. */
    private DeviceBuffer capacity(long bytes) {
        if (buffer == null || buffer.bytes() < bytes) buffer = arena.allocate(Math.max(1024, Long.highestOneBit(Math.max(bytes, 1)) << 1));
        return buffer.slice(0, bytes);
    }
}
