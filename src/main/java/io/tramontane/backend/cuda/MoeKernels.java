package io.tramontane.backend.cuda;

import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Launches the MoE kernels of cuda-kernels/moe.cu (bodies in moe_core.cuh): {@code moe_route} and
 * {@code moe_permute} fill a {@link CudaExpertRoutes}; {@code moe_gather}, {@code moe_gemv_* / moe_gemm_*} (grouped
 * linears over the tile map) and {@code moe_combine} consume it. Every launch is sized from host-known shapes (tokens,
 * top-k, experts): nothing is read back. Launches are built (and checked) as values, so tests and the emulator see
 * exactly what the driver would.
 */
final class MoeKernels {
    // as in moe_core.cuh / moe.cu
    static final int MAX_EXPERTS = 256, MAX_TOP_K = 8;
    static final int ROUTE_WARPS = 4, ROUTE_THREADS = 32 * ROUTE_WARPS, PERMUTE_THREADS = 256, ROW_THREADS = 256;
    static final int PERMUTE_SHARED_BYTES = (3 * (MAX_EXPERTS + 1) + 1) * 4;
    static final int GEMV_WARPS = 4, GEMV_TILE_ROWS = 4, GEMM_TILE_ROWS = 64, GEMM_TILE_N = 64, GEMM_THREADS = 256;
    /** The grouped gemm's two k-major stages of 32 x (64 + 4) floats. */
    static final int GEMM_SHARED_BYTES = 2 * 32 * (GEMM_TILE_ROWS + 4) * Float.BYTES;
    /**
     * Up to this many routed rows per expert on average (decode batches) the grouped linears are gemvs over tiles of 4
     * rows, reading each expert's weights about twice; above, the FP32-FMA gemm, which reads them once but computes 64
     * rows per tile whatever the expert got. An estimate until a GPU session measures the crossover.
     */
    static final int GEMV_ROWS_PER_EXPERT = 8;

    /** A kernel launch: name, shape and parameters, as cuLaunchKernel receives them. */
    record Launch(String kernel, LaunchConfig config, Consumer<KernelArgs> arguments, int parameters) {}

    /** Every kernel of the family and its parameter count. */
    static final Map<String, Integer> KERNELS = kernels();

    private final Map<String, Launcher> launchers = new HashMap<>();

    MoeKernels(KernelModule module) {
        KERNELS.forEach((name, parameters) -> launchers.put(name, Launcher.of(module, name, parameters)));
    }

    private static Map<String, Integer> kernels() {
        Map<String, Integer> kernels = new LinkedHashMap<>(Map.of("moe_route", 6, "moe_permute", 9, "moe_gather", 5, "moe_combine", 6));
        for (String shape : List.of("gemv_", "gemm_")) {
            for (String format : List.of("f32", "bf16", "e4m3", "e4m3_w8a8")) kernels.put("moe_" + shape + format, 10);
        }
        return Collections.unmodifiableMap(kernels);
    }

    void run(Stream stream, Launch launch) {
        Launcher launcher = launchers.get(launch.kernel());
        if (launcher == null || launcher.parameters() != launch.parameters()) {
            throw new IllegalArgumentException("no MoE kernel " + launch.kernel() + " of " + launch.parameters() + " parameters");
        }
        launcher.launch(stream, launch.config(), launch.arguments());
    }

    static void requireRouting(int tokens, int experts, int topK) {
        if (tokens < 0) throw new IllegalArgumentException("tokens must be >= 0: " + tokens);
        if (experts < 1 || experts > MAX_EXPERTS) {
            throw new IllegalArgumentException("experts must be in [1, " + MAX_EXPERTS + "]: " + experts);
        }
        if (topK < 1 || topK > Math.min(experts, MAX_TOP_K)) {
            throw new IllegalArgumentException("top-k must be in [1, " + Math.min(experts, MAX_TOP_K) + "]: " + topK);
        }
    }

    /** Rows per tile of the grouped linears for {@code rows} routed rows over {@code experts} experts. */
    static int tileRows(int rows, int experts) {
        return rows <= GEMV_ROWS_PER_EXPERT * experts ? GEMV_TILE_ROWS : GEMM_TILE_ROWS;
    }

    /** The most tiles {@code rows} rows over {@code experts} experts can need: each used expert adds one partial tile. */
    static int maxTiles(int rows, int experts, int tileRows) {
        return ceil(rows, tileRows) + Math.min(experts, rows);
    }

    /** moe_route (a warp per token) then moe_permute (one CTA): logits [tokens, experts] into {@code routes}. */
    static List<Launch> routing(CudaActivation logits, CudaExpertRoutes r) {
        if (logits.rows() != r.tokens() || logits.cols() != r.experts()) {
            throw new IllegalArgumentException("router logits [" + logits.rows() + ", " + logits.cols() + "] for routes of "
                    + r.tokens() + " tokens over " + r.experts() + " experts");
        }
        Launcher.requirePositive("routed tokens", r.tokens());
        var route = new Launch("moe_route", new LaunchConfig(Dim3.of(ceil(r.tokens(), ROUTE_WARPS)), Dim3.of(ROUTE_THREADS), 0),
                args -> args.clear().pointer(logits.data()).i32(r.tokens()).i32(r.experts()).i32(r.topK()).pointer(r.expert())
                        .pointer(r.weight()), 6);
        var permute = new Launch("moe_permute", new LaunchConfig(Dim3.of(1), Dim3.of(PERMUTE_THREADS), PERMUTE_SHARED_BYTES),
                args -> args.clear().pointer(r.expert()).i32(r.rows()).i32(r.experts()).i32(r.tileRows()).i32(r.maxTiles())
                        .pointer(r.order()).pointer(r.position()).pointer(r.offsets()).pointer(r.tiles()), 9);
        return List.of(route, permute);
    }

    /** moe_gather: xSorted [rows, x.cols] from x [tokens, cols]. */
    static Launch gather(CudaActivation x, CudaExpertRoutes r, CudaActivation xSorted) {
        requireShape("gatherRouted input", x, r.tokens(), xSorted.cols());
        requireShape("gatherRouted output", xSorted, r.rows(), x.cols());
        Launcher.requirePositive("gatherRouted shape", r.rows(), x.cols());
        return new Launch("moe_gather", new LaunchConfig(Dim3.of(r.rows()), Dim3.of(ROW_THREADS), 0),
                args -> args.clear().pointer(x.data()).pointer(r.order()).i32(r.topK()).i32(x.cols()).pointer(xSorted.data()), 5);
    }

    /** moe_combine: out [tokens, cols] from ySorted [rows, cols]. */
    static Launch combine(CudaActivation ySorted, CudaExpertRoutes r, CudaActivation out) {
        requireShape("combineRouted input", ySorted, r.rows(), out.cols());
        requireShape("combineRouted output", out, r.tokens(), ySorted.cols());
        Launcher.requirePositive("combineRouted shape", r.tokens(), out.cols());
        return new Launch("moe_combine", new LaunchConfig(Dim3.of(r.tokens()), Dim3.of(ROW_THREADS), 0),
                args -> args.clear().pointer(ySorted.data()).pointer(r.position()).pointer(r.weight()).i32(r.topK())
                        .i32(out.cols()).pointer(out.data()), 6);
    }

    /** The grouped linear's kernel for these weights and routes. */
    static String linearKernel(CudaExperts w, CudaExpertRoutes r) {
        return "moe_" + (r.tileRows() == GEMV_TILE_ROWS ? "gemv_" : "gemm_") + w.format().suffix
                + (w.quantizesActivations() ? "_w8a8" : "");
    }

    /** moe_gemv_* / moe_gemm_*: out [rows, w.rows] = xSorted [rows, w.cols] by each row's expert. */
    static Launch linear(CudaActivation xSorted, CudaExperts w, CudaExpertRoutes r, CudaActivation out) {
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        if (w.experts().size() != r.experts()) {
            throw new IllegalArgumentException(w.experts().size() + " expert weights for routes over " + r.experts() + " experts");
        }
        requireShape("expertLinear input", xSorted, r.rows(), k);
        requireShape("expertLinear output", out, r.rows(), n);
        Launcher.requirePositive("expertLinear shape", r.rows(), n, k);
        Launcher.requireGridYz(r.maxTiles(), "expert row tiles");
        boolean gemv = r.tileRows() == GEMV_TILE_ROWS;
        LaunchConfig config = gemv
                ? new LaunchConfig(Dim3.of(ceil(n, GEMV_WARPS), r.maxTiles()), Dim3.of(32 * GEMV_WARPS), 0)
                : new LaunchConfig(Dim3.of(ceil(n, GEMM_TILE_N), r.maxTiles()), Dim3.of(GEMM_THREADS), GEMM_SHARED_BYTES);
        return new Launch(linearKernel(w, r), config, args -> args.clear().pointer(xSorted.data()).pointer(w.pointers())
                .i64(w.stride()).pointer(w.activationScales()).pointer(w.outScales()).pointer(r.offsets()).pointer(r.tiles())
                .pointer(out.data()).i32(n).i32(k), 10);
    }

    private static void requireShape(String what, CudaActivation a, int rows, int cols) {
        if (a.rows() != rows || a.cols() != cols) {
            throw new IllegalArgumentException(what + " is [" + a.rows() + ", " + a.cols() + "], expected [" + rows + ", " + cols + "]");
        }
    }

    private static int ceil(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }
}
