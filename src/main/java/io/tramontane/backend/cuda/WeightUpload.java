package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.weights.Progress;
import io.tramontane.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Copies weights from mapped tensor views to the device once: rows are gathered one by one (views may be row
 * ranges, column ranges or the q/k RoPE permutation of native checkpoints) into a pinned staging buffer, padded
 * to 16 bytes, and copied a staging buffer at a time. Kept dtypes are copied as bytes; others are decoded to F32.
 */
final class WeightUpload {
    static final long STAGING_BYTES = 32L << 20;
    private static final java.lang.foreign.ValueLayout.OfFloat LE_FLOAT = JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final CudaDriver driver;
    private final DeviceArena arena;
    private MemorySegment staging;
    private Progress progress = Progress.silent();

    WeightUpload(CudaDriver driver, DeviceArena arena) {
        this.driver = driver;
        this.arena = arena;
    }

    /** Where uploaded bytes are counted from now on. */
    void reportTo(Progress progress) {
        this.progress = progress;
    }

    /** @param asF32 decode to F32 whatever the dtype (norm gains and other vectors, which the kernels read as FP32) */
    CudaWeight upload(Tensor tensor, float weightScale, float activationScale, boolean asF32) {
        WeightFormat format = asF32 ? WeightFormat.F32 : WeightFormat.of(tensor.dtype());
        boolean raw = !asF32 && WeightFormat.keeps(tensor.dtype());
        long rows = tensor.rows(), cols = tensor.cols(), stride = format.stride(cols);
        long rowBytes = stride * format.bytes;
        DeviceBuffer data = arena.allocate(Math.max(rows * rowBytes, WeightFormat.ROW_ALIGNMENT));
        MemorySegment stage = staging(rowBytes);
        long rowsPerCopy = stage.byteSize() / rowBytes;
        float[] decoded = raw ? null : new float[Math.toIntExact(cols)];
        for (long first = 0; first < rows; first += rowsPerCopy) {
            long count = Math.min(rowsPerCopy, rows - first);
            MemorySegment chunk = stage.asSlice(0, count * rowBytes);
            if (stride != cols) chunk.fill((byte) 0);
            for (long r = 0; r < count; r++) {
                long at = r * rowBytes;
                if (raw) {
                    MemorySegment.copy(tensor.rowBytes(first + r), 0, chunk, at, cols * format.bytes);
                } else {
                    tensor.readRow(first + r, decoded, 0);
                    MemorySegment.copy(decoded, 0, chunk, LE_FLOAT, at, decoded.length);
                }
            }
            driver.copyToDevice(data.slice(first * rowBytes, count * rowBytes), chunk);
            progress.advance(count * rowBytes);
        }
        return new CudaWeight(data, format, rows, cols, stride, weightScale, activationScale);
    }

    /** The pinned staging buffer, large enough for one row. */
    private MemorySegment staging(long rowBytes) {
        if (staging == null || staging.byteSize() < rowBytes) staging = arena.allocatePinned(Math.max(STAGING_BYTES, rowBytes));
        return staging;
    }
}
