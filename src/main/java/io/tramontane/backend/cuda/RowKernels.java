package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;

/** Launches {@code gather_rows_f32} (cuda-kernels/elementwise.cu): the output head's rows of a step. */
final class RowKernels {
    static final int THREADS = 256;
    private final Launcher gather;

    RowKernels(KernelModule module) {
        gather = Launcher.of(module, "gather_rows_f32", 5);
    }

    /** dst[i] = src[rows[i]] for i < n; rows already checked against src's rows. */
    void gather(Stream stream, CudaActivation src, DeviceBuffer rows, int n, CudaActivation dst) {
        gather.launch(stream, gatherConfig(n, dst.cols()), args -> gatherArguments(args, src, rows, n, dst));
    }

    static LaunchConfig gatherConfig(int n, int cols) {
        Launcher.requirePositive("gather shape", n, cols);
        Launcher.requireGridYz(n, "gathered rows");
        return new LaunchConfig(Dim3.of((cols + THREADS - 1) / THREADS, n), Dim3.of(THREADS), 0);
    }

    static KernelArgs gatherArguments(KernelArgs args, CudaActivation src, DeviceBuffer rows, int n, CudaActivation dst) {
        Launcher.requirePositive("gather shape", n, dst.cols());
        if (n > dst.rows() || dst.cols() > src.cols()) {
            throw new IllegalArgumentException("gather of " + n + " rows into [" + dst.rows() + ", " + dst.cols()
                    + "] from [" + src.rows() + ", " + src.cols() + "]");
        }
        Launcher.requireInts(rows, n, "row indices");
        return args.clear().pointer(src.data()).i32(src.cols()).pointer(rows).pointer(dst.data()).i32(dst.cols());
    }
}
