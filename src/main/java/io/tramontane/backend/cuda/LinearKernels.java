package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import java.util.EnumMap;
import java.util.Map;

/**
 * Launches {@code linear_gemv_<format>} for decode-sized inputs (up to {@link #GEMV_MAX_TOKENS} tokens: the
 * weights streamed once per 4 tokens through a shared-memory ring, cuda-kernels/linear_core.cuh) and
 * {@code linear_gemm_<format>} (64x64 shared-memory tiles) above: y[m, n] = scale * x[m, k] w[n, k]^T
 * (cuda-kernels/linear.cu).
 */
final class LinearKernels {
    static final int GEMV_MAX_TOKENS = 8;
    static final int TILE = 64, GEMM_THREADS = 256;
    private final Map<WeightFormat, Launcher> gemv = new EnumMap<>(WeightFormat.class);
    private final Map<WeightFormat, GemvLayout> gemvLayouts = new EnumMap<>(WeightFormat.class);
    private final Map<WeightFormat, Launcher> gemm = new EnumMap<>(WeightFormat.class);
    private final int multiprocessors;

    LinearKernels(KernelModule module, int multiprocessors) {
        this.multiprocessors = multiprocessors;
        for (WeightFormat f : WeightFormat.values()) {
            GemvLayout layout = f == WeightFormat.F32 ? GemvLayout.PRODUCTION : GemvLayout.configured();
            gemvLayouts.put(f, layout);
            gemv.put(f, layout.launcher(module, f));
            gemm.put(f, Launcher.of(module, name(f, GEMV_MAX_TOKENS + 1), 8));
        }
    }

    /** The kernel that serves {@code m} tokens. */
    static String name(WeightFormat format, int m) {
        return (m <= GEMV_MAX_TOKENS ? "linear_gemv_" : "linear_gemm_") + format.suffix;
    }

    /** @param x [m, w.cols] FP32; @param y [m, w.rows] FP32 */
    void launch(Stream stream, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale) {
        int n = Math.toIntExact(w.rows());
        if (m > GEMV_MAX_TOKENS) {
            gemm.get(w.format()).launch(stream, config(m, n, multiprocessors), args -> arguments(args, x, w, y, m, scale, multiprocessors));
            return;
        }
        GemvLayout layout = gemvLayouts.get(w.format());
        gemv.get(w.format()).launch(stream, layout.config(m, n, multiprocessors),
                args -> arguments(args, x, w, y, m, scale, layout, multiprocessors));
    }

    /** The launch for {@code m} tokens and {@code n} output rows on a device of {@code multiprocessors} SMs. */
    static LaunchConfig config(int m, int n, int multiprocessors) {
        if (m <= GEMV_MAX_TOKENS) return GemvLayout.PRODUCTION.config(m, n, multiprocessors);
        Launcher.requirePositive("linear shape", m, n, multiprocessors);
        Launcher.requireGridYz(ceil(m, TILE), "linear row tiles");
        return new LaunchConfig(Dim3.of(ceil(n, TILE), ceil(m, TILE)), Dim3.of(GEMM_THREADS), 0);
    }

    /**
     * The kernel's parameters (x, w, stride, y, m, n, k, scale, and for the gemv the warps per row) after checking
     * every buffer against the shape.
     */
    static KernelArgs arguments(KernelArgs args, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale,
                                int multiprocessors) {
        return arguments(args, x, w, y, m, scale, GemvLayout.PRODUCTION, multiprocessors);
    }

    /** As above, with the warps per row of the gemv of {@code layout}. */
    static KernelArgs arguments(KernelArgs args, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale,
                                GemvLayout layout, int multiprocessors) {
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        Launcher.requirePositive("linear shape", m, n, k);
        Launcher.requireFloats(x, (long) m * k, "linear input");
        Launcher.requireFloats(y, (long) m * n, "linear output");
        w.data().requireBytes(w.rows() * w.stride() * w.format().bytes, "linear weight");
        if (w.stride() < k || w.stride() * w.format().bytes % WeightFormat.ROW_ALIGNMENT != 0) {
            throw new IllegalArgumentException("weight stride " + w.stride() + " for " + k + " columns is not 16-byte padded");
        }
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("linear scale must be finite: " + scale);
        args.clear().pointer(x).pointer(w.data()).i64(w.stride()).pointer(y).i32(m).i32(n).i32(k).f32(scale);
        return m <= GEMV_MAX_TOKENS ? args.i32(layout.parts(n, multiprocessors)) : args;
    }

    private static int ceil(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }
}
