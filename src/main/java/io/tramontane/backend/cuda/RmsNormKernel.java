package io.tramontane.backend.cuda;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.Kernel;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import java.lang.foreign.Arena;

/**
 * Launches {@code rmsnorm_f32} (cuda-kernels/rmsnorm.cu): y[rows, dim] = x / sqrt(mean(x^2) + eps) * w, FP32,
 * one block per row. Buffers are checked against the shape before anything reaches the driver.
 */
public final class RmsNormKernel {
    public static final String NAME = "rmsnorm_f32";
    private static final int MAX_THREADS = 1024;  // the kernel's __launch_bounds__

    private final CudaDriver driver;
    private final Kernel kernel;

    public RmsNormKernel(KernelModule module) {
        this.driver = module.driver();
        this.kernel = module.kernel(NAME);
    }

    /**
     * Enqueues the normalisation of {@code rows} rows on {@code stream}.
     *
     * @param x [rows, dim] FP32 input
     * @param w [dim] FP32 weight
     * @param y [rows, dim] FP32 output; may be {@code x}
     */
    public void launch(Stream stream, DeviceBuffer x, DeviceBuffer w, DeviceBuffer y, int rows, int dim, float eps) {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = arguments(new KernelArgs(arena, 5), x, w, y, rows, dim, eps);
            driver.launchKernel(kernel, config(rows, dim), stream, args);
        }
    }

    /** One block per row; threads: dim rounded up to whole warps (block_sum needs full warps), at most 1024. */
    static LaunchConfig config(int rows, int dim) {
        requireShape(rows, dim);
        int threads = Math.min(MAX_THREADS, (dim + 31) / 32 * 32);
        return new LaunchConfig(Dim3.of(rows), Dim3.of(threads), 0);
    }

    /** The kernel's parameters (x, w, y, dim, eps) after checking each buffer's size against the shape. */
    static KernelArgs arguments(KernelArgs args, DeviceBuffer x, DeviceBuffer w, DeviceBuffer y,
                                int rows, int dim, float eps) {
        requireShape(rows, dim);
        long activation = (long) rows * dim * Float.BYTES;
        x.requireBytes(activation, "x");
        w.requireBytes((long) dim * Float.BYTES, "w");
        y.requireBytes(activation, "y");
        if (!(eps >= 0)) throw new IllegalArgumentException("eps must be >= 0: " + eps);
        return args.clear().pointer(x).pointer(w).pointer(y).i32(dim).f32(eps);
    }

    private static void requireShape(int rows, int dim) {
        if (rows < 1 || dim < 1) throw new IllegalArgumentException("rmsnorm shape must be positive: " + rows + "x" + dim);
    }
}
