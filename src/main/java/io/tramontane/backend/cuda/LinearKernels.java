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
    // linear_core.cuh's layout: blocks of 8 warps, 2 rows a warp, 4 tokens a block, a ring of 4 stages of 2 chunks
    static final int GEMV_WARPS = 8, GEMV_THREADS = 32 * GEMV_WARPS, GEMV_ROWS_PER_WARP = 2, GEMV_TOKENS = 4;
    static final int GEMV_SHARED_BYTES = 4 * GEMV_ROWS_PER_WARP * 2 * GEMV_THREADS * 16 + 2 * GEMV_WARPS * GEMV_ROWS_PER_WARP * GEMV_TOKENS * 4;
    /** Resident gemv blocks per SM on sm_90a (80 registers and 3 x 64.5 KB of shared memory: the kernel's launch bounds). */
    static final int GEMV_BLOCKS_PER_SM = 3;
    /** Weight-streaming warps a gemv asks for per SM: those resident, so that narrow layers split their rows over more warps. */
    static final int GEMV_WARPS_PER_SM = GEMV_BLOCKS_PER_SM * GEMV_WARPS;
    static final int TILE = 64, GEMM_THREADS = 256;
    private final Map<WeightFormat, Launcher> gemv = new EnumMap<>(WeightFormat.class);
    private final Map<WeightFormat, Launcher> gemm = new EnumMap<>(WeightFormat.class);
    private final int multiprocessors;

    LinearKernels(KernelModule module, int multiprocessors) {
        this.multiprocessors = multiprocessors;
        for (WeightFormat f : WeightFormat.values()) {
            Launcher g = Launcher.of(module, name(f, 1), 9);
            module.driver().setMaxDynamicSharedMemory(g.kernel(), GEMV_SHARED_BYTES);  // above the 48 KB default
            gemv.put(f, g);
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
        int n = Math.toIntExact(w.rows());
        launcher.launch(stream, config(m, n, multiprocessors), args -> arguments(args, x, w, y, m, scale, multiprocessors));
    }

    /**
     * The launch for {@code m} tokens and {@code n} output rows on a device of {@code multiprocessors} SMs. gemv: blocks
     * of {@link #GEMV_THREADS} that each walk an equal share of the row units (the fewest blocks that fill the resident
     * slots no more than the units allow, so that all finish together), grid.y over the tokens.
     */
    static LaunchConfig config(int m, int n, int multiprocessors) {
        Launcher.requirePositive("linear shape", m, n, multiprocessors);
        if (m <= GEMV_MAX_TOKENS) {
            int tokenGroups = ceil(m, GEMV_TOKENS);
            long units = ceil(n, GEMV_WARPS / gemvParts(n, multiprocessors) * GEMV_ROWS_PER_WARP);
            long slots = Math.max(1, (long) GEMV_BLOCKS_PER_SM * multiprocessors / tokenGroups);
            long unitsPerBlock = (units + slots - 1) / slots;
            return new LaunchConfig(Dim3.of(ceil(units, Math.toIntExact(unitsPerBlock)), tokenGroups), Dim3.of(GEMV_THREADS),
                    GEMV_SHARED_BYTES);
        }
        Launcher.requireGridYz(ceil(m, TILE), "linear row tiles");
        return new LaunchConfig(Dim3.of(ceil(n, TILE), ceil(m, TILE)), Dim3.of(GEMM_THREADS), 0);
    }

    /**
     * The warps a gemv row is split over: the fewest (a power of two up to 8) that give {@link #GEMV_WARPS_PER_SM}
     * streaming warps per SM, so that narrow layers (k/v: 1024 rows) do not leave SMs idle.
     */
    static int gemvParts(int n, int multiprocessors) {
        long wanted = (long) GEMV_WARPS_PER_SM * multiprocessors, rowGroups = ceil(n, GEMV_ROWS_PER_WARP);
        int parts = 1;
        while (parts < GEMV_WARPS && rowGroups * parts < wanted) parts *= 2;
        return parts;
    }

    /**
     * The kernel's parameters (x, w, stride, y, m, n, k, scale, and for the gemv the warps per row) after checking
     * every buffer against the shape.
     */
    static KernelArgs arguments(KernelArgs args, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m, float scale,
                                int multiprocessors) {
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
        return m <= GEMV_MAX_TOKENS ? args.i32(gemvParts(n, multiprocessors)) : args;
    }

    private static int ceil(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }
}
