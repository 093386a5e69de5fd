package io.tramontane.backend.cuda;

import io.tramontane.weights.DType;

/**
 * How a weight's elements are stored on the device: the kernels decode these three in registers (kernel name
 * suffix {@link #suffix}); every other dtype is decoded to F32 on the host when it is uploaded.
 */
enum WeightFormat {
    F32(4, "f32"), BF16(2, "bf16"), E4M3(1, "e4m3");

    /** Weight rows are padded to this many bytes so the kernels load them as 16-byte chunks. */
    static final int ROW_ALIGNMENT = 16;

    final int bytes;
    final String suffix;

    WeightFormat(int bytes, String suffix) {
        this.bytes = bytes;
        this.suffix = suffix;
    }

    /** The device format of a checkpoint dtype: itself where a kernel decodes it, else F32. */
    static WeightFormat of(DType dtype) {
        return switch (dtype) {
            case BF16 -> BF16;
            case F8_E4M3 -> E4M3;
            default -> F32;
        };
    }

    /** True when the device keeps {@code dtype}'s bytes as they are. */
    static boolean keeps(DType dtype) {
        return dtype == DType.F32 || dtype == DType.BF16 || dtype == DType.F8_E4M3;
    }

    /** Elements per padded row of {@code cols} elements. */
    long stride(long cols) {
        long perChunk = ROW_ALIGNMENT / bytes;
        return Math.max(1, (cols + perChunk - 1) / perChunk) * perChunk;
    }
}
