package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;

/**
 * Launches the layout moves around NCCL's all-gather (cuda-kernels/collective.cu): {@code pad_columns_f32} and
 * {@code unpad_gathered_columns_f32}, one thread per column, one grid row per activation row.
 */
final class CollectiveKernels {
    static final int THREADS = 256;
    private final Launcher pad, unpad;

    CollectiveKernels(KernelModule module) {
        pad = Launcher.of(module, "pad_columns_f32", 4);
        unpad = Launcher.of(module, "unpad_gathered_columns_f32", 6);
    }

    /** dst[r, c] = src[r, c] for src [rows, cols], dst [rows, stride]. */
    void pad(Stream stream, DeviceBuffer src, DeviceBuffer dst, int rows, int cols, int stride) {
        pad.launch(stream, config(rows, cols), args -> padArguments(args, src, dst, rows, cols, stride));
    }

    /** whole [rows, layout.total()] from gathered [ranks, rows, layout.stride()]. */
    void unpad(Stream stream, DeviceBuffer gathered, DeviceBuffer whole, ColumnLayout layout, DeviceBuffer offsets, int rows) {
        unpad.launch(stream, config(rows, layout.total()), args -> unpadArguments(args, gathered, whole, layout, offsets, rows));
    }

    static LaunchConfig config(int rows, int cols) {
        Launcher.requirePositive("column move shape", rows, cols);
        Launcher.requireGridYz(rows, "column move rows");
        return new LaunchConfig(Dim3.of((cols + THREADS - 1) / THREADS, rows), Dim3.of(THREADS), 0);
    }

    static KernelArgs padArguments(KernelArgs args, DeviceBuffer src, DeviceBuffer dst, int rows, int cols, int stride) {
        Launcher.requirePositive("pad shape", rows, cols);
        if (stride < cols) throw new IllegalArgumentException("pad stride " + stride + " below " + cols + " columns");
        Launcher.requireFloats(src, (long) rows * cols, "pad source");
        Launcher.requireFloats(dst, (long) rows * stride, "pad destination");
        return args.clear().pointer(src).pointer(dst).i32(cols).i32(stride);
    }

    static KernelArgs unpadArguments(KernelArgs args, DeviceBuffer gathered, DeviceBuffer whole, ColumnLayout layout,
                                     DeviceBuffer offsets, int rows) {
        Launcher.requirePositive("unpad rows", rows);
        Launcher.requireFloats(gathered, (long) layout.ranks() * rows * layout.stride(), "gathered columns");
        Launcher.requireFloats(whole, (long) rows * layout.total(), "gathered whole");
        Launcher.requireInts(offsets, layout.ranks() + 1L, "column offsets");
        return args.clear().pointer(gathered).pointer(whole).pointer(offsets).i32(layout.ranks()).i32(rows).i32(layout.stride());
    }
}
