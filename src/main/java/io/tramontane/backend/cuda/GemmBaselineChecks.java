package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.tramontane.backend.Activation;
import io.tramontane.cuda.Cuda;
import io.tramontane.cuda.CublasLt;
import io.tramontane.cuda.CublasLtGemm;
import io.tramontane.cuda.CublasLtHandle;
import io.tramontane.cuda.CublasLtProbe;
import io.tramontane.cuda.CudaDataType;
import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Stream;
import io.tramontane.weights.DType;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * The GEMM baseline of the GPU check: {@link CudaBackend#linear} (whichever kernel it dispatches to) against
 * cuBLASLt, used here only as an oracle and a stopwatch. Per precision (FP8 e4m3 static w8a8, BF16):
 * <ol>
 *   <li>cuBLASLt against {@code CpuBackend} on small shapes, so the oracle itself is checked;</li>
 *   <li>on Devstral Small 24B's projections at prefill sizes (m = 2048 and 4096 tokens), our linear against
 *       cuBLASLt on the same inputs, and the device time of both (CUDA events, warm, best of
 *       {@value #TIMED_RUNS}) with the throughput ratio ours / cuBLASLt (the target: at least 0.70 for
 *       FP8). The ratio is a measurement, not a pass condition; the comparison is.</li>
 * </ol>
 * The inputs are exactly representable in the precision under test (BF16 values; FP8 values times a power-of-two
 * activation scale, so the static quantization is lossless), so both sides multiply the same numbers exactly and
 * differ only in how they accumulate; the bounds ({@link Precision#bound}) say by how much. Without cuBLASLt the
 * section is one row, "skipped: &lt;reason&gt;", and passes. Where python3 has a CUDA torch, PyTorch's time for the same
 * shapes ({@link PyTorchBaseline}: torch._scaled_mm, torch.matmul) is added to each row.
 */
public final class GemmBaselineChecks implements AutoCloseable {
    /** A projection of Devstral Small 24B (dim 5120, 32 query / 8 KV heads of 128, hidden 32768): y = x w^T, w [n, k]. */
    public record Projection(String name, int n, int k) {}

    public static final List<Projection> PROJECTIONS = List.of(new Projection("q", 4096, 5120),
            new Projection("k/v", 1024, 5120), new Projection("o", 5120, 4096),
            new Projection("gate/up", 32768, 5120), new Projection("down", 5120, 32768));
    /** Prefill sizes (tokens in one forward). */
    public static final List<Integer> PREFILL_TOKENS = List.of(2048, 4096);
    /**
     * cuBLASLt against the CPU: m x n x k, all different (a swapped or transposed layout cannot pass), k a multiple
     * of 16 as FP8 needs, m and n multiples of 8 (the oracle is to be trusted here, not probed for its limits).
     */
    static final List<int[]> ORACLE_SHAPES = List.of(new int[] {40, 48, 80}, new int[] {64, 96, 1040});

    static final int TIMED_RUNS = 5;
    /** cuBLASLt's workspace: what NVIDIA recommends for Hopper (32 MiB). */
    static final long WORKSPACE_BYTES = 32L << 20;

    /**
     * A precision under test.
     *
     * <p>Bounds, relative to max(|ref|, RMS of the output) as in {@link BackendChecks#compare}: with exact products
     * both sides only round FP32 sums, in different orders; over k <= 32768 terms that is a few 1e-6 of the output's
     * RMS in practice, and BF16 keeps {@link BackendChecks#SUM_BOUND} (1e-4). FP8 tensor cores on Hopper add
     * products into an accumulator that keeps about 14 significant bits (truncating), so a kernel must promote its
     * partial sums to FP32 every few wgmma k-steps (cuBLASLt does unless fast accumulation is asked for).
     * Promoting every 128 k, the truncations leave about 1.1e-4 of the output's RMS (GemmBaselineChecksTest
     * simulates it), the largest of 10^8 elements near 7 sigma: 8e-4. The FP8 bound is 2e-3. Never promoting
     * gives 1e-2 at k = 5120 and 6e-2 at 32768 and fails, as does a lost 64-wide k-tile (0.15 and more).
     */
    public enum Precision {
        FP8_W8A8("FP8 w8a8", "fp8", DType.F8_E4M3, CudaDataType.R_8F_E4M3, 2e-3),
        BF16("BF16", "bf16", DType.BF16, CudaDataType.R_16BF, BackendChecks.SUM_BOUND);

        final String label, torch;
        final DType dtype;
        final CudaDataType cublas;
        final double bound;

        Precision(String label, String torch, DType dtype, CudaDataType cublas, double bound) {
            this.label = label;
            this.torch = torch;
            this.dtype = dtype;
            this.cublas = cublas;
            this.bound = bound;
        }

        /** Powers of two, so x / activationScale and the scaled products are exact. */
        float weightScale() {
            return this == FP8_W8A8 ? 0x1p-6f : 1f;
        }

        float activationScale() {
            return this == FP8_W8A8 ? 0x1p-5f : Float.NaN;
        }

        /** The input value the backend sees for a uniform draw: exactly representable after its quantization. */
        float input(double uniform) {
            return this == FP8_W8A8
                    ? Floats.e4m3ToFloat(Floats.floatToE4m3((float) (uniform * 16))) * activationScale()
                    : Floats.bf16ToFloat(Floats.floatToBf16((float) uniform));
        }

        /** What cuBLASLt is given for {@code x}: its e4m3 code after dividing by the activation scale, or its BF16 bits. */
        void store(MemorySegment into, long index, float x) {
            if (this == FP8_W8A8) into.set(JAVA_BYTE, index, Floats.floatToE4m3(x / activationScale()));
            else into.setAtIndex(JAVA_SHORT, index, Floats.floatToBf16(x));
        }

        /** The range of random weights before rounding to the stored dtype. */
        double weightRange() {
            return this == FP8_W8A8 ? 8 : 0.5;
        }
    }

    private final BackendChecks ops;
    private final CudaBackend cuda;
    private final CublasLt lt;
    private final CublasLtHandle handle;
    private final CudaDriver driver = Cuda.driver();
    private final DeviceArena arena;
    private final DeviceBuffer workspace;
    private final PyTorchBaseline pytorch;

    private GemmBaselineChecks(BackendChecks ops, CublasLt lt, PyTorchBaseline pytorch) {
        this.ops = ops;
        this.pytorch = pytorch;
        this.cuda = ops.cuda;
        this.lt = lt;
        this.arena = new DeviceArena(driver);
        try {
            this.workspace = arena.allocate(WORKSPACE_BYTES);
            this.handle = lt.create();
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Every check of this section on the backend's device, or the one "skipped" row without cuBLASLt. Never throws. */
    public static List<CheckResult> all(BackendChecks ops) {
        return all(ops, CublasLtProbe.probe());
    }

    static List<CheckResult> all(BackendChecks ops, CublasLtProbe probe) {
        if (!probe.available()) return List.of(skipped(probe.reason()));
        PyTorchBaseline pytorch = PyTorchBaseline.measure(pytorchShapes());
        GemmBaselineChecks checks;
        try {
            checks = new GemmBaselineChecks(ops, probe.library().orElseThrow(), pytorch);
        } catch (RuntimeException e) {
            return List.of(skipped("cuBLASLt unusable: " + e.getMessage()));
        }
        try (checks) {
            List<CheckResult> results = new ArrayList<>();
            results.add(pytorchRow(pytorch));
            for (Precision precision : Precision.values()) {
                for (int[] s : ORACLE_SHAPES) results.add(checks.oracle(precision, s[0], s[1], s[2], BackendChecks.seed()));
            }
            for (Precision precision : Precision.values()) {
                for (Projection projection : PROJECTIONS) results.addAll(checks.baseline(precision, projection, BackendChecks.seed()));
            }
            return results;
        } catch (RuntimeException e) {
            return List.of(CheckResult.failed("cuBLASLt baseline", "", 0, e.toString()));
        }
    }

    /** Every shape the baseline rows time, for PyTorch. */
    static List<PyTorchBaseline.Shape> pytorchShapes() {
        List<PyTorchBaseline.Shape> shapes = new ArrayList<>();
        for (Precision precision : Precision.values()) {
            for (Projection p : PROJECTIONS) {
                for (int m : PREFILL_TOKENS) shapes.add(new PyTorchBaseline.Shape(precision.torch, m, p.n(), p.k()));
            }
        }
        return shapes;
    }

    /** What PyTorch is (or why it is not there); a note, so it always passes. */
    static CheckResult pytorchRow(PyTorchBaseline pytorch) {
        return pytorch.available()
                ? new CheckResult("PyTorch baseline", "", 0, true, Double.NaN, Double.NaN, Double.NaN, pytorch.description())
                : CheckResult.skipped("PyTorch baseline", "", pytorch.description());
    }

    /** The section's row where it cannot run: passes, so the rest of gpu-check decides the status. */
    static CheckResult skipped(String reason) {
        return CheckResult.skipped("cuBLASLt baseline", "", reason);
    }

    /** cuBLASLt against CpuBackend on an m x n x k linear: checks the oracle. */
    public CheckResult oracle(Precision precision, int m, int n, int k, long seed) {
        String check = "cuBLASLt " + precision.label + " vs CPU", shape = m + "x" + n + "x" + k;
        return KernelChecks.attempt(check, shape, seed, () -> {
            Problem problem = Problem.random(precision, m, n, k, seed);
            try (Operands operands = operands(problem, m)) {
                BackendChecks.Pair x = ops.input(Arrays.copyOf(problem.x(), m * k), m, k), out = ops.output(m, n);
                ops.cpu.linear(x.cpu(), ops.cpu.linear(problem.layer()), out.cpu());
                try (CublasLtGemm gemm = operands.plan(out.gpu())) {
                    Runnable run = () -> gemm.run(Stream.DEFAULT, operands.alpha());
                    run.run();
                    float[] gpu = BackendChecks.read(cuda, out.gpu()), reference = BackendChecks.read(ops.cpu, out.cpu());
                    return BackendChecks.compare(check, shape, seed, gpu, reference, cuda.guardIntact(out.gpu()),
                            precision.bound, cuda.timeMicros(run));
                }
            }
        });
    }

    /** Our linear against cuBLASLt on {@code projection} at every prefill size, with their timings. */
    public List<CheckResult> baseline(Precision precision, Projection projection, long seed) {
        int mMax = PREFILL_TOKENS.stream().mapToInt(Integer::intValue).max().orElseThrow();
        Problem problem;
        try {
            problem = Problem.random(precision, mMax, projection.n(), projection.k(), seed);
        } catch (RuntimeException e) {
            return List.of(CheckResult.failed(check(precision, projection), "", seed, e.toString()));
        }
        List<CheckResult> results = new ArrayList<>();
        try (Operands operands = operands(problem, mMax)) {
            for (int m : PREFILL_TOKENS) results.add(baseline(precision, projection, problem, operands, m, seed));
        } catch (RuntimeException e) {
            results.add(CheckResult.failed(check(precision, projection), "", seed, e.toString()));
        }
        return results;
    }

    private CheckResult baseline(Precision precision, Projection projection, Problem problem, Operands operands, int m,
                                 long seed) {
        int n = projection.n(), k = projection.k();
        String check = check(precision, projection), shape = m + "x" + n + "x" + k;
        return KernelChecks.attempt(check, shape, seed, () -> {
            Activation x = cuda.allocate(m, k), ours = cuda.allocate(m, n), theirs = cuda.allocate(m, n);
            cuda.write(x, m == problem.m() ? problem.x() : Arrays.copyOf(problem.x(), m * k));
            cuda.poison(ours);
            cuda.poison(theirs);
            try (CublasLtGemm gemm = operands.plan(theirs, m)) {
                Runnable oursOp = () -> cuda.linear(x, operands.weight(), ours);
                Runnable theirsOp = () -> gemm.run(Stream.DEFAULT, operands.alpha());
                oursOp.run();
                theirsOp.run();
                boolean guards = cuda.guardIntact(ours) && cuda.guardIntact(theirs);
                double oursMicros = best(() -> cuda.timeMicros(oursOp)), theirsMicros = best(() -> cuda.timeMicros(theirsOp));
                CheckResult result = BackendChecks.compare(check, shape, seed, BackendChecks.read(cuda, ours),
                        BackendChecks.read(cuda, theirs), guards, precision.bound, oursMicros);
                String timing = timing(gemm.shape().flops(), oursMicros, theirsMicros);
                if (cuda.usesTensorCores(CudaWeight.of(operands.weight()), m)) {
                    Runnable convert = () -> cuda.convertTensorCoreInput(x, operands.weight());
                    convert.run();
                    timing += conversionNote(TensorCoreGemm.conversionKernel(CudaWeight.of(operands.weight())),
                            best(() -> cuda.timeMicros(convert)), oursMicros, theirsMicros);
                }
                timing += pytorchNote(pytorch, precision.torch, m, n, k, oursMicros);
                String detail = result.detail().isEmpty() ? timing : result.detail() + "; " + timing;
                return new CheckResult(check, shape, seed, result.passed(), result.maxRelativeError(), result.bound(),
                        oursMicros, detail);
            }
        });
    }

    static String check(Precision precision, Projection projection) {
        return "cuBLASLt " + precision.label + " " + projection.name();
    }

    /** "612 TFLOP/s; cuBLASLt 402.1 us 934 TFLOP/s; ours/cuBLASLt 0.66": throughputs and their ratio. */
    static String timing(double flops, double oursMicros, double theirsMicros) {
        return String.format(Locale.ROOT, "%.0f TFLOP/s; cuBLASLt %.1f us %.0f TFLOP/s; ours/cuBLASLt %.2f",
                flops / oursMicros / 1e6, theirsMicros, flops / theirsMicros / 1e6, theirsMicros / oursMicros);
    }

    /** "; gemm_input_e4m3 31.0 us of it, ours/cuBLASLt 0.78 without it": our input conversion, timed alone. */
    static String conversionNote(String kernel, double conversionMicros, double oursMicros, double theirsMicros) {
        return String.format(Locale.ROOT, "; %s %.1f us of it, ours/cuBLASLt %.2f without it", kernel, conversionMicros,
                theirsMicros / (oursMicros - conversionMicros));
    }

    /** "; PyTorch 410.2 us, ours/PyTorch 0.65", PyTorch's error for the shape, or nothing without PyTorch. */
    static String pytorchNote(PyTorchBaseline pytorch, String precision, int m, int n, int k, double oursMicros) {
        if (!pytorch.available()) return "";
        return pytorch.micros(precision, m, n, k)
                .map(us -> String.format(Locale.ROOT, "; PyTorch %.1f us, ours/PyTorch %.2f", us, us / oursMicros))
                .orElse("; PyTorch: " + pytorch.errors().getOrDefault(PyTorchBaseline.key(precision, m, n, k), "not timed"));
    }

    /** The least of {@value #TIMED_RUNS} warm timings. */
    static double best(DoubleSupplier timing) {
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i < TIMED_RUNS; i++) best = Math.min(best, timing.getAsDouble());
        return best;
    }

    /**
     * Random inputs of one precision: weights {@code w} [n, k] in the stored dtype and {@code x} [m, k] exactly
     * representable after the backend's quantization ({@link Precision#input}).
     */
    record Problem(Precision precision, Linear layer, float[] x, int m, int n, int k) {
        static Problem random(Precision precision, int m, int n, int k, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            Tensor w = RandomTensors.tensor("w", precision.dtype, n, k, random, precision.weightRange());
            float[] x = new float[Math.multiplyExact(m, k)];
            for (int i = 0; i < x.length; i++) x[i] = precision.input(random.nextDouble(-1, 1));
            return new Problem(precision, new Linear(w, precision.weightScale(), precision.activationScale()), x, m, n, k);
        }
    }

    /**
     * One problem's device side for cuBLASLt: the backend's uploaded weight (cuBLASLt reads the same bytes as our
     * kernel), x in the precision's storage for up to {@code rows} tokens, and the FP8 scales.
     */
    private Operands operands(Problem problem, int rows) {
        return new Operands(problem, rows);
    }

    private final class Operands implements AutoCloseable {
        private final Problem problem;
        private final CudaWeight weight;
        private final DeviceArena buffers = new DeviceArena(driver);
        private final DeviceBuffer input, weightScale, inputScale;

        Operands(Problem problem, int rows) {
            this.problem = problem;
            Precision precision = problem.precision();
            this.weight = (CudaWeight) cuda.linear(problem.layer());
            try (Arena host = Arena.ofConfined()) {
                long count = (long) rows * problem.k();
                MemorySegment staged = host.allocate(count * precision.cublas.bytes, 16);
                for (long i = 0; i < count; i++) precision.store(staged, i, problem.x()[(int) i]);
                input = buffers.allocate(staged.byteSize());
                driver.copyToDevice(input, staged);
                if (precision == Precision.FP8_W8A8) {
                    weightScale = scalar(host, precision.weightScale());
                    inputScale = scalar(host, precision.activationScale());
                } else {
                    weightScale = inputScale = null;
                }
            }
        }

        private DeviceBuffer scalar(Arena host, float value) {
            DeviceBuffer buffer = buffers.allocate(Float.BYTES);
            driver.copyToDevice(buffer, host.allocateFrom(JAVA_FLOAT, value));
            return buffer;
        }

        CudaWeight weight() {
            return weight;
        }

        /** FP8 takes its scales from device memory; other precisions fold the weight scale into alpha. */
        float alpha() {
            return weightScale == null ? weight.weightScale() : 1f;
        }

        CublasLtGemm plan(Activation out) {
            return plan(out, CudaActivation.of(out).rows());
        }

        /** cuBLASLt's y[m, n] = x[m, k] w^T into {@code out}, over the first m tokens of the staged input. */
        CublasLtGemm plan(Activation out, int m) {
            var shape = new CublasLtGemm.Shape(problem.precision().cublas, m, problem.n(), problem.k(), weight.stride());
            var operands = new CublasLtGemm.Operands(weight.data(), input, CudaActivation.of(out).data(), weightScale,
                    inputScale, workspace);
            return CublasLtGemm.plan(lt, handle, shape, operands);
        }

        @Override
        public void close() {
            buffers.close();
        }
    }

    @Override
    public void close() {
        try (arena) {
            lt.destroy(handle);
        }
    }
}
