package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Launches {@code linear_gemv_<format>} for decode-sized inputs (up to {@link #GEMV_MAX_TOKENS} tokens: the
 * weights streamed once per 4 tokens through a shared-memory ring, cuda-kernels/linear_core.cuh) and
 * {@code linear_gemm_<format>} (64x64 shared-memory tiles) above: y[m, n] = scale * x[m, k] w[n, k]^T
 * (cuda-kernels/linear.cu).
 */
final class LinearKernels {
    static final int GEMV_MAX_TOKENS = 8;
    /** Weights sharing x that one gemv launch serves (q, k and v), and the gemv kernel's parameter count. */
    static final int GEMV_WEIGHTS = 3, GEMV_PARAMETERS = 5 + 4 * GEMV_WEIGHTS;
    static final int TILE = 64, GEMM_THREADS = 256;
    private final Map<WeightFormat, Map<GemvLayout, Launcher>> gemv = new EnumMap<>(WeightFormat.class);
    private final GemvLayoutChoice gemvLayouts;
    private final Map<WeightFormat, Launcher> gemm = new EnumMap<>(WeightFormat.class);
    private final int multiprocessors;

    LinearKernels(KernelModule module, int multiprocessors) {
        this.multiprocessors = multiprocessors;
        this.gemvLayouts = GemvLayoutChoice.configured();
        for (WeightFormat f : WeightFormat.values()) {
            Map<GemvLayout, Launcher> launchers = new HashMap<>();
            for (GemvLayout layout : f == WeightFormat.F32 ? Set.of(GemvLayout.PRODUCTION) : gemvLayouts.layouts()) {
                launchers.put(layout, layout.launcher(module, f));
            }
            gemv.put(f, launchers);
            gemm.put(f, Launcher.of(module, name(f, GEMV_MAX_TOKENS + 1), 8));
        }
    }

    /** The kernel that serves {@code m} tokens. */
    static String name(WeightFormat format, int m) {
        return (m <= GEMV_MAX_TOKENS ? "linear_gemv_" : "linear_gemm_") + format.suffix;
    }

    /** @param x [m, w.cols] FP32; @param y [m, w.rows] FP32 */
    void launch(Stream stream, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale) {
        if (m <= GEMV_MAX_TOKENS) {
            launchGemv(stream, x, new CudaWeight[] {w}, new DeviceBuffer[] {y}, new float[] {scale}, m);
            return;
        }
        gemm.get(w.format()).launch(stream, config(m, Math.toIntExact(w.rows()), multiprocessors),
                args -> gemmArguments(args, x, w, y, m, scale));
    }

    /**
     * One gemv launch for up to {@link #GEMV_WEIGHTS} weights of one format and width that share x ({@code m} <=
     * {@link #GEMV_MAX_TOKENS} tokens): y[s] = scales[s] * x w[s]^T, each weight's rows as if launched alone.
     */
    void launchGemv(Stream stream, DeviceBuffer x, CudaWeight[] ws, DeviceBuffer[] ys, float[] scales, int m) {
        WeightFormat format = ws[0].format();
        GemvLayout layout = format == WeightFormat.F32 ? GemvLayout.PRODUCTION : gemvLayouts.forWidth(ws[0].cols());
        gemv.get(format).get(layout).launch(stream, layout.config(m, rows(ws), multiprocessors),
                args -> gemvArguments(args, x, ws, ys, scales, m, layout, multiprocessors));
    }

    /** The launch for {@code m} tokens and {@code n} output rows on a device of {@code multiprocessors} SMs. */
    static LaunchConfig config(int m, int n, int multiprocessors) {
        if (m <= GEMV_MAX_TOKENS) return GemvLayout.PRODUCTION.config(m, n, multiprocessors);
        Launcher.requirePositive("linear shape", m, n, multiprocessors);
        Launcher.requireGridYz(ceil(m, TILE), "linear row tiles");
        return new LaunchConfig(Dim3.of(ceil(n, TILE), ceil(m, TILE)), Dim3.of(GEMM_THREADS), 0);
    }

    /** The parameters of the kernel that serves {@code m} tokens (production gemv layout), checked against the shape. */
    static KernelArgs arguments(KernelArgs args, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale,
                                int multiprocessors) {
        return arguments(args, x, w, y, m, scale, GemvLayout.PRODUCTION, multiprocessors);
    }

    /** As above, a gemv in {@code layout}. */
    static KernelArgs arguments(KernelArgs args, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale,
                                GemvLayout layout, int multiprocessors) {
        return m <= GEMV_MAX_TOKENS
                ? gemvArguments(args, x, new CudaWeight[] {w}, new DeviceBuffer[] {y}, new float[] {scale}, m, layout, multiprocessors)
                : gemmArguments(args, x, w, y, m, scale);
    }

    /** The gemm's parameters (x, w, stride, y, m, n, k, scale). */
    static KernelArgs gemmArguments(KernelArgs args, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale) {
        requireLinear(x, w, y, m, scale);
        return args.clear().pointer(x).pointer(w.data()).i64(w.stride()).pointer(y).i32(m).i32(Math.toIntExact(w.rows()))
                .i32(Math.toIntExact(w.cols())).f32(scale);
    }

    /**
     * The gemv's parameters (linear_core.cuh: x, stride, m, k, the warps per row, then each weight's w, y, rows and
     * scale; rows 0 for an absent one), after checking that the weights share format, width and stride and every buffer
     * against the shape.
     */
    static KernelArgs gemvArguments(KernelArgs args, DeviceBuffer x, CudaWeight[] ws, DeviceBuffer[] ys, float[] scales, int m,
                                    GemvLayout layout, int multiprocessors) {
        if (ws.length < 1 || ws.length > GEMV_WEIGHTS || ys.length != ws.length || scales.length != ws.length) {
            throw new IllegalArgumentException("a gemv takes 1 to " + GEMV_WEIGHTS + " weights with an output and a scale each, got "
                    + ws.length + " weights, " + ys.length + " outputs, " + scales.length + " scales");
        }
        CudaWeight first = ws[0];
        for (int i = 0; i < ws.length; i++) {
            CudaWeight w = ws[i];
            if (w.format() != first.format() || w.cols() != first.cols() || w.stride() != first.stride()) {
                throw new IllegalArgumentException("gemv weight " + i + " is " + w.format() + " [" + w.rows() + ", " + w.cols()
                        + "] stride " + w.stride() + ", weight 0 " + first.format() + " [" + first.rows() + ", " + first.cols()
                        + "] stride " + first.stride() + ": one launch needs one format, width and stride");
            }
            requireLinear(x, w, ys[i], m, scales[i]);
        }
        int k = Math.toIntExact(first.cols());
        args.clear().pointer(x).i64(first.stride()).i32(m).i32(k).i32(layout.parts(rows(ws), multiprocessors));
        for (int i = 0; i < GEMV_WEIGHTS; i++) {
            if (i < ws.length) args.pointer(ws[i].data()).pointer(ys[i]).i32(Math.toIntExact(ws[i].rows())).f32(scales[i]);
            else args.pointer(first.data()).pointer(ys[0]).i32(0).f32(0f);  // absent: no units, never read
        }
        return args;
    }

    private static void requireLinear(DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale) {
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        Launcher.requirePositive("linear shape", m, n, k);
        Launcher.requireFloats(x, (long) m * k, "linear input");
        Launcher.requireFloats(y, (long) m * n, "linear output");
        w.data().requireBytes(w.rows() * w.stride() * w.format().bytes, "linear weight");
        if (w.stride() < k || w.stride() * w.format().bytes % WeightFormat.ROW_ALIGNMENT != 0) {
            throw new IllegalArgumentException("weight stride " + w.stride() + " for " + k + " columns is not 16-byte padded");
        }
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("linear scale must be finite: " + scale);
    }

    private static int[] rows(CudaWeight[] ws) {
        int[] rows = new int[ws.length];
        for (int i = 0; i < ws.length; i++) rows[i] = Math.toIntExact(ws[i].rows());
        return rows;
    }

    private static int ceil(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }
}
