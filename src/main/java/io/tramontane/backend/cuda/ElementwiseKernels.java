package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;

/**
 * Launches the element-wise kernels of cuda-kernels/elementwise.cu (grid-stride loops): {@code swiglu_f32},
 * {@code add_f32}, {@code scale_rows_f32} and {@code quantize_e4m3_f32}.
 */
final class ElementwiseKernels {
    static final int THREADS = 256;
    private final Launcher swiglu, add, scaleRows, quantize;

    ElementwiseKernels(KernelModule module) {
        swiglu = Launcher.of(module, "swiglu_f32", 3);
        add = Launcher.of(module, "add_f32", 3);
        scaleRows = Launcher.of(module, "scale_rows_f32", 4);
        quantize = Launcher.of(module, "quantize_e4m3_f32", 4);
    }

    /** gate = silu(gate) * up, both {@code count} floats. */
    void swiglu(Stream stream, DeviceBuffer gate, DeviceBuffer up, long count) {
        swiglu.launch(stream, config(count), args -> pair(args, gate, up, count));
    }

    /** x += y, both {@code count} floats. */
    void add(Stream stream, DeviceBuffer x, DeviceBuffer y, long count) {
        add.launch(stream, config(count), args -> pair(args, x, y, count));
    }

    /** x[t, :] *= scale[t] for x [rows, cols]. */
    void scaleRows(Stream stream, DeviceBuffer x, DeviceBuffer scale, int rows, int cols) {
        scaleRows.launch(stream, config((long) rows * cols), args -> scaleRowsArguments(args, x, scale, rows, cols));
    }

    /** y = e4m3(x / scale) decoded, both {@code count} floats. */
    void quantizeE4m3(Stream stream, DeviceBuffer x, DeviceBuffer y, float scale, long count) {
        quantize.launch(stream, config(count), args -> quantizeArguments(args, x, y, scale, count));
    }

    static LaunchConfig config(long count) {
        Launcher.requirePositive("element count", count);
        return new LaunchConfig(Dim3.of(Launcher.strideBlocks(count, THREADS)), Dim3.of(THREADS), 0);
    }

    static KernelArgs pair(KernelArgs args, DeviceBuffer a, DeviceBuffer b, long count) {
        Launcher.requirePositive("element count", count);
        Launcher.requireFloats(a, count, "first operand");
        Launcher.requireFloats(b, count, "second operand");
        return args.clear().pointer(a).pointer(b).i64(count);
    }

    static KernelArgs scaleRowsArguments(KernelArgs args, DeviceBuffer x, DeviceBuffer scale, int rows, int cols) {
        Launcher.requirePositive("scale_rows shape", rows, cols);
        Launcher.requireFloats(x, (long) rows * cols, "x");
        Launcher.requireFloats(scale, rows, "row scales");
        return args.clear().pointer(x).pointer(scale).i32(cols).i64((long) rows * cols);
    }

    static KernelArgs quantizeArguments(KernelArgs args, DeviceBuffer x, DeviceBuffer y, float scale, long count) {
        Launcher.requirePositive("element count", count);
        Launcher.requireFloats(x, count, "x");
        Launcher.requireFloats(y, count, "quantized x");
        if (!(scale > 0) || !Float.isFinite(scale)) throw new IllegalArgumentException("activation scale must be > 0: " + scale);
        return args.clear().pointer(x).pointer(y).f32(scale).i64(count);
    }
}
