package io.tramontane.backend.cuda;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.DeviceInfo;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import io.tramontane.cuda.TensorMap;
import io.tramontane.cuda.TiledTensorMap;
import io.tramontane.cuda.TiledTensorMap.L2Promotion;
import io.tramontane.cuda.TiledTensorMap.Swizzle;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Prefill linears on Hopper tensor cores (cuda-kernels/gemm_sm90.cu): y[m, n] = scale * x[m, k] w[n, k]^T for BF16 and
 * FP8 e4m3 weights when m > {@link LinearKernels#GEMV_MAX_TOKENS} on a compute capability 9.0 device. Per call the
 * FP32 activations are first converted into a scratch buffer of 16-byte padded rows (the weight's stride) in the
 * weight's type:
 * <ul>
 *   <li>BF16 weights: x rounded to BF16;</li>
 *   <li>FP8 weights with a static activation scale s (w8a8): e4m3(x / s), s folded into the output scale, exactly
 *       the values CpuBackend multiplies;</li>
 *   <li>FP8 weights without one: e4m3 with a dynamic scale per token (max |x| / 448), the row scales applied in the
 *       GEMM's epilogue. Per-token scales keep an outlier token from flattening the others' precision.</li>
 * </ul>
 * Then the GEMM reads activations and weights through TMA tensor maps: a weight's map is encoded once and cached,
 * the scratch buffer's per shape (a small cache: the layers of a forward reuse the same few shapes).
 */
final class TensorCoreGemm {
    static final int BLOCK_M = 128, BLOCK_N = 128, BLOCK_K_BYTES = 128, STAGES = 6, THREADS = 384;
    /** gemm_sm90_core.cuh smem_bytes(): the stages, 2 mbarriers per stage, 1024 bytes to align the swizzle atoms. */
    static final int SHARED_BYTES = STAGES * (BLOCK_M + BLOCK_N) * BLOCK_K_BYTES + 2 * STAGES * 8 + 1024;
    /** Threads of the conversion kernels (one CTA per row). */
    /** gemm_input_core.cuh's CTA per row, and its shared memory: one row-maximum partial per warp. */
    static final int INPUT_THREADS = 256, INPUT_SHARED_BYTES = INPUT_THREADS / 32 * Float.BYTES;
    private static final int ACTIVATION_MAPS = 64;

    /** How the activations are converted for one weight. */
    enum Input {
        BF16("gemm_input_bf16", "gemm_sm90_bf16", TiledTensorMap.DataType.BFLOAT16),
        E4M3_STATIC("gemm_input_e4m3", "gemm_sm90_e4m3", TiledTensorMap.DataType.UINT8),
        E4M3_PER_TOKEN("gemm_input_e4m3_rows", "gemm_sm90_e4m3", TiledTensorMap.DataType.UINT8);

        final String convert, gemm;
        final TiledTensorMap.DataType type;

        Input(String convert, String gemm, TiledTensorMap.DataType type) {
            this.convert = convert;
            this.gemm = gemm;
            this.type = type;
        }

        /** The conversion a weight needs; null when tensor cores do not serve its format. */
        static Input of(CudaWeight w) {
            return switch (w.format()) {
                case BF16 -> BF16;
                case E4M3 -> w.quantizesActivations() ? E4M3_STATIC : E4M3_PER_TOKEN;
                case F32 -> null;
            };
        }
    }

    private final CudaDriver driver;
    private final DeviceArena arena;
    private final Map<String, Launcher> launchers = new ConcurrentHashMap<>();
    private final Map<CudaWeight, TensorMap> weightMaps = new ConcurrentHashMap<>();
    private final Map<TiledTensorMap, TensorMap> activationMaps = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<TiledTensorMap, TensorMap> eldest) {
            return size() > ACTIVATION_MAPS;
        }
    };
    private DeviceBuffer scratch, rowScales;

    TensorCoreGemm(KernelModule module, DeviceArena arena) {
        this.driver = module.driver();
        this.arena = arena;
        for (Input input : Input.values()) {
            launchers.computeIfAbsent(input.convert, name -> Launcher.of(module, name, input == Input.BF16 ? 4 : 5));
            launchers.computeIfAbsent(input.gemm, name -> {
                Launcher gemm = Launcher.of(module, name, 8);
                driver.setMaxDynamicSharedMemory(gemm.kernel(), SHARED_BYTES);
                return gemm;
            });
        }
    }

    /** The tensor-core GEMM exists for sm_90a only (wgmma); sm_100 keeps linear_gemm_* until a tcgen05 kernel. */
    static boolean supports(DeviceInfo device) {
        return device.computeMajor() == 9 && device.computeMinor() == 0 && device.maxSharedMemoryPerBlockOptin() >= SHARED_BYTES;
    }

    /** True when a linear of {@code m} tokens over {@code w} runs here (prefill-sized, BF16 or FP8 weights). */
    static boolean serves(CudaWeight w, int m) {
        return m > LinearKernels.GEMV_MAX_TOKENS && Input.of(w) != null;
    }

    /** @param x [m, w.cols] FP32; @param y [m, w.rows] FP32 */
    void launch(Stream stream, DeviceBuffer x, CudaWeight w, DeviceBuffer y, int m) {
        Converted converted = convert(stream, x, w, m);
        Input input = Input.of(w);
        int k = Math.toIntExact(w.cols());
        TensorMap xMap = activationMap(activationSpec(input, converted.data(), m, k, w.stride() * w.format().bytes));
        TensorMap wMap = weightMaps.computeIfAbsent(w, weight -> driver.tensorMapEncodeTiled(weightSpec(weight)));
        float scale = input == Input.E4M3_STATIC ? w.weightScale() * w.activationScale() : w.weightScale();
        launchers.get(input.gemm).launch(stream, config(m, Math.toIntExact(w.rows())),
                args -> arguments(args, xMap, wMap, y, converted.rowScales(), m, w, scale));
    }

    /** The converted input of a launch: BF16 or e4m3 rows, and for per-token FP8 the row scales (else null). */
    record Converted(DeviceBuffer data, DeviceBuffer rowScales) {}

    /** The first half of {@link #launch}: x [m, w.cols] converted to the GEMM's input type (timed alone by the GPU check). */
    Converted convert(Stream stream, DeviceBuffer x, CudaWeight w, int m) {
        Input input = Input.of(w);
        if (input == null || m < 1) throw new IllegalArgumentException("no tensor-core GEMM for " + w.format() + " weights, m " + m);
        int k = Math.toIntExact(w.cols());
        Launcher.requireFloats(x, (long) m * k, "tensor-core linear input");
        DeviceBuffer converted = scratch(Math.multiplyExact(m, w.stride() * w.format().bytes));
        DeviceBuffer scales = input == Input.E4M3_PER_TOKEN ? rowScales(m) : null;
        launchers.get(input.convert).launch(stream, inputConfig(m, k), args -> inputArguments(args, input, x, converted,
                scales, m, k, w));
        return new Converted(converted, scales);
    }

    /** The conversion kernel {@link #convert} launches for {@code w}. */
    static String conversionKernel(CudaWeight w) {
        Input input = Input.of(w);
        if (input == null) throw new IllegalArgumentException("no tensor-core GEMM for " + w.format() + " weights");
        return input.convert;
    }

    // ---- launch shapes and parameters, checked before anything reaches the driver

    /** Row tiles in x (varying fastest: a weight tile is read once while every row tile uses it), weight tiles in y. */
    static LaunchConfig config(int m, int n) {
        Launcher.requirePositive("tensor-core linear shape", m, n);
        Launcher.requireGridYz(ceil(n, BLOCK_N), "tensor-core linear column tiles");
        return new LaunchConfig(Dim3.of(ceil(m, BLOCK_M), ceil(n, BLOCK_N)), Dim3.of(THREADS), SHARED_BYTES);
    }

    /** One CTA per row of x (grid.x has no practical limit). */
    static LaunchConfig inputConfig(int m, int k) {
        Launcher.requirePositive("tensor-core linear input shape", m, k);
        return new LaunchConfig(Dim3.of(m), Dim3.of(INPUT_THREADS), INPUT_SHARED_BYTES);
    }

    /** The conversion kernel's parameters: (x, out, k, stride), (x, out, k, stride, scale) or (x, out, row_scales, k, stride). */
    static KernelArgs inputArguments(KernelArgs args, Input input, DeviceBuffer x, DeviceBuffer out, DeviceBuffer rowScales,
                                     int m, int k, CudaWeight w) {
        Launcher.requireFloats(x, (long) m * k, "tensor-core linear input");
        out.requireBytes((long) m * w.stride() * w.format().bytes, "tensor-core linear converted input");
        args.clear().pointer(x).pointer(out);
        return switch (input) {
            case BF16 -> args.i32(k).i64(w.stride());
            case E4M3_STATIC -> {
                if (!(w.activationScale() > 0) || !Float.isFinite(w.activationScale())) {
                    throw new IllegalArgumentException("static activation scale must be positive and finite: " + w.activationScale());
                }
                yield args.i32(k).i64(w.stride()).f32(w.activationScale());
            }
            case E4M3_PER_TOKEN -> {
                Launcher.requireFloats(rowScales, m, "tensor-core linear row scales");
                yield args.pointer(rowScales).i32(k).i64(w.stride());
            }
        };
    }

    /** The GEMM's parameters (x_map, w_map, y, row_scales, m, n, k, scale). */
    static KernelArgs arguments(KernelArgs args, TensorMap xMap, TensorMap wMap, DeviceBuffer y, DeviceBuffer rowScales, int m,
                                CudaWeight w, float scale) {
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        Launcher.requirePositive("tensor-core linear shape", m, n, k);
        Launcher.requireFloats(y, (long) m * n, "tensor-core linear output");
        if (rowScales != null) Launcher.requireFloats(rowScales, m, "tensor-core linear row scales");
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("tensor-core linear scale must be finite: " + scale);
        long[] xDims = xMap.spec().globalDims(), wDims = wMap.spec().globalDims();
        if (xDims[0] != k || xDims[1] != m || wDims[0] != k || wDims[1] != n) {
            throw new IllegalArgumentException("tensor maps over [" + xDims[1] + ", " + xDims[0] + "] and [" + wDims[1] + ", "
                    + wDims[0] + "] for a [" + m + ", " + k + "] x [" + n + ", " + k + "]^T linear");
        }
        return args.clear().tensorMap(xMap).tensorMap(wMap).pointer(y).i64(rowScales == null ? 0 : rowScales.address())
                .i32(m).i32(n).i32(k).f32(scale);
    }

    /** The weight [n, k] in boxes of BLOCK_N rows x 128 bytes, 128-byte swizzled (the kernel's w tile). */
    static TiledTensorMap weightSpec(CudaWeight w) {
        Input input = Input.of(w);
        if (input == null) throw new IllegalArgumentException("no tensor-core GEMM for " + w.format() + " weights");
        return TiledTensorMap.matrix(input.type, w.data(), w.rows(), w.cols(), w.stride() * w.format().bytes, BLOCK_N,
                BLOCK_K_BYTES / input.type.bytes, Swizzle.B128, L2Promotion.L2_256B);
    }

    /** The converted activations [m, k] in boxes of BLOCK_M rows x 128 bytes, 128-byte swizzled (the x tile). */
    static TiledTensorMap activationSpec(Input input, DeviceBuffer converted, int m, int k, long rowBytes) {
        return TiledTensorMap.matrix(input.type, converted, m, k, rowBytes, BLOCK_M, BLOCK_K_BYTES / input.type.bytes,
                Swizzle.B128, L2Promotion.L2_256B);
    }

    private TensorMap activationMap(TiledTensorMap spec) {
        TensorMap map = activationMaps.get(spec);
        if (map == null) activationMaps.put(spec, map = driver.tensorMapEncodeTiled(spec));
        return map;
    }

    /**
     * The first {@code bytes} of the conversion buffer, grown geometrically; an outgrown buffer stays in the arena until
     * it closes (a kernel may still read it: the stream is in order, the host is not).
     */
    private DeviceBuffer scratch(long bytes) {
        if (scratch == null || scratch.bytes() < bytes) scratch = arena.allocate(Math.max(1 << 20, Long.highestOneBit(bytes) << 1));
        return scratch.slice(0, bytes);
    }

    private DeviceBuffer rowScales(int m) {
        long bytes = (long) m * Float.BYTES;
        if (rowScales == null || rowScales.bytes() < bytes) rowScales = arena.allocate(Math.max(4096, Long.highestOneBit(bytes) << 1));
        return rowScales.slice(0, bytes);
    }

    private static int ceil(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }
}
