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
 * weights are streamed once per 4 tokens) and {@code linear_gemm_<format>} (64x64 shared-memory tiles) above:
 * y[m, n] = scale * x[m, k] w[n, k]^T (cuda-kernels/linear.cu).
 */
final class LinearKernels {
    static final int GEMV_MAX_TOKENS = 8;
    static final int GEMV_WARPS_PER_BLOCK = 8, GEMV_TOKENS = 4;
    /**
     * Weight-streaming warps a gemv asks for per SM: somewhat more than are resident at the kernel's 86 registers (2
     * blocks of 8 warps on sm_90a), so that narrow layers (k/v: 1024 rows) split their rows over more warps instead of
     * leaving SMs idle.
     */
    static final int GEMV_WARPS_PER_SM = 24;
    static final int TILE = 64, GEMM_THREADS = 256;
    private final Map<WeightFormat, Launcher> gemv = new EnumMap<>(WeightFormat.class);
    private final Map<WeightFormat, Launcher> gemm = new EnumMap<>(WeightFormat.class);
    private final int multiprocessors;

    LinearKernels(KernelModule module, int multiprocessors) {
        this.multiprocessors = multiprocessors;
        for (WeightFormat f : WeightFormat.values()) {
            gemv.put(f, Launcher.of(module, name(f, 1), 8));
            gemm.put(f, Launcher.of(module, name(f, GEMV_MAX_TOKENS + 1), 8));
        }
    }

    /** The kernel that serves {@code m} tokens. */
    static String name(WeightFormat format, int m) {
        return (m <= GEMV_MAX_TOKENS ? "linear_gemv_" : "linear_gemm_") + format.suffix;
    }

    /** @param x [m, w.cols] FP32; @param y [m, w.rows] FP32 */
    void launch(Stream stream, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale) {
        Launcher launcher = (m <= GEMV_MAX_TOKENS ? gemv : gemm).get(w.format());
        launcher.launch(stream, config(m, Math.toIntExact(w.rows()), multiprocessors), args -> arguments(args, x, w, y, m, scale));
    }

    /**
     * The launch for {@code m} tokens and {@code n} output rows on a device of {@code multiprocessors} SMs. gemv blocks
     * are (32, parts, rows): each row split over {@code parts} warps, the fewest (a power of two up to 8) that give
     * {@link #GEMV_WARPS_PER_SM} warps per SM.
     */
    static LaunchConfig config(int m, int n, int multiprocessors) {
        Launcher.requirePositive("linear shape", m, n, multiprocessors);
        if (m <= GEMV_MAX_TOKENS) {
            long wanted = (long) GEMV_WARPS_PER_SM * multiprocessors;
            int parts = 1;
            while (parts < GEMV_WARPS_PER_BLOCK && (long) n * parts < wanted) parts *= 2;
            int rows = GEMV_WARPS_PER_BLOCK / parts;
            return new LaunchConfig(Dim3.of(ceil(n, rows), ceil(m, GEMV_TOKENS)), new Dim3(32, parts, rows), 0);
        }
        Launcher.requireGridYz(ceil(m, TILE), "linear row tiles");
        return new LaunchConfig(Dim3.of(ceil(n, TILE), ceil(m, TILE)), Dim3.of(GEMM_THREADS), 0);
    }

    /** The kernel's parameters (x, w, stride, y, m, n, k, scale) after checking every buffer against the shape. */
    static KernelArgs arguments(KernelArgs args, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale) {
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        Launcher.requirePositive("linear shape", m, n, k);
        Launcher.requireFloats(x, (long) m * k, "linear input");
        Launcher.requireFloats(y, (long) m * n, "linear output");
        w.data().requireBytes(w.rows() * w.stride() * w.format().bytes, "linear weight");
        if (w.stride() < k || w.stride() * w.format().bytes % WeightFormat.ROW_ALIGNMENT != 0) {
            throw new IllegalArgumentException("weight stride " + w.stride() + " for " + k + " columns is not 16-byte padded");
        }
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("linear scale must be finite: " + scale);
        return args.clear().pointer(x).pointer(w.data()).i64(w.stride()).pointer(y).i32(m).i32(n).i32(k).f32(scale);
    }

    private static int ceil(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }
}
