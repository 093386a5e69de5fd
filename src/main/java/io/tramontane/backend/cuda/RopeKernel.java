package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;

/** Launches {@code rope_f32} (cuda-kernels/rope.cu): rotate-half RoPE in place, one block per row. */
final class RopeKernel {
    static final String NAME = "rope_f32";
    static final int THREADS = 128;
    private final Launcher kernel;

    RopeKernel(KernelModule module) {
        kernel = Launcher.of(module, NAME, 5);
    }

    /** @param x [rows, cols] with cols a multiple of headDim; @param cos [rows, headDim / 2]; @param sin likewise */
    void launch(Stream stream, DeviceBuffer x, DeviceBuffer cos, DeviceBuffer sin, int rows, int cols, int headDim) {
        kernel.launch(stream, config(rows), args -> arguments(args, x, cos, sin, rows, cols, headDim));
    }

    static LaunchConfig config(int rows) {
        Launcher.requirePositive("rope rows", rows);
        return new LaunchConfig(Dim3.of(rows), Dim3.of(THREADS), 0);
    }

    static KernelArgs arguments(KernelArgs args, DeviceBuffer x, DeviceBuffer cos, DeviceBuffer sin, int rows, int cols,
                                int headDim) {
        Launcher.requirePositive("rope shape", rows, cols, headDim);
        if (headDim % 2 != 0 || cols % headDim != 0) {
            throw new IllegalArgumentException("rope needs an even head_dim dividing the columns: " + cols + " / " + headDim);
        }
        Launcher.requireFloats(x, (long) rows * cols, "x");
        Launcher.requireFloats(cos, (long) rows * (headDim / 2), "cos");
        Launcher.requireFloats(sin, (long) rows * (headDim / 2), "sin");
        return args.clear().pointer(x).pointer(cos).pointer(sin).i32(cols).i32(headDim);
    }
}
