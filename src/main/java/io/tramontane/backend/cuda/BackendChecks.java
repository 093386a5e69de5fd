package io.tramontane.backend.cuda;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Backend;
import io.tramontane.backend.Weight;
import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.weights.DType;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Every op of {@link CudaBackend} against {@link CpuBackend}, whose semantics it must match, on fresh random inputs
 * and odd shapes. Outputs (and the guard bytes after every activation) are poisoned with NaN before the op; an
 * element left NaN, a guard overwritten or an element off by more than the op's bound fails the check.
 */
public final class BackendChecks implements AutoCloseable {
    /** Ops computed like the CPU (same roundings): exact but for the last bit of library functions. */
    static final double EXACT_BOUND = 1e-6;
    /** FP32 ops with an FP32 reduction or expf. */
    static final double FP32_BOUND = 1e-5;
    /** Long FP32 dot products summed in another order than the CPU's. */
    static final double SUM_BOUND = 1e-4;

    /** y[m, n] = x[m, k] w[n, k]^T with w stored in {@code dtype}; w8a8 quantizes x with a static scale. */
    public record LinearShape(DType dtype, int m, int n, int k, boolean w8a8) {
        @Override
        public String toString() {
            return m + "x" + n + "x" + k;
        }

        String check() {
            return "linear " + dtype + (w8a8 ? " w8a8" : "") + (m <= LinearKernels.GEMV_MAX_TOKENS ? " gemv" : " gemm");
        }
    }

    public static final List<LinearShape> LINEAR_SHAPES;

    static {
        List<LinearShape> shapes = new ArrayList<>();
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F8_E4M3)) {
            // gemv: one token, a partial token tile, two tiles; odd k (scalar tails) and model widths
            shapes.add(new LinearShape(dtype, 1, 7, 33, false));
            shapes.add(new LinearShape(dtype, 3, 129, 1000, false));
            shapes.add(new LinearShape(dtype, 8, 300, 4096, false));
            // rows split over 8, 4, 2 and 1 warps on a 132-SM device (GemvLayout.parts), partial row units
            shapes.add(new LinearShape(dtype, 1, 1500, 1000, false));
            shapes.add(new LinearShape(dtype, 2, 2001, 333, false));
            shapes.add(new LinearShape(dtype, 5, 4001, 64, false));
            shapes.add(new LinearShape(dtype, 1, 6401, 96, false));
            shapes.add(new LinearShape(dtype, 3, 8501, 64, false));
            // gemm: partial tiles in m, n and k
            shapes.add(new LinearShape(dtype, 9, 70, 33, false));
            shapes.add(new LinearShape(dtype, 130, 257, 1000, false));
        }
        shapes.add(new LinearShape(DType.F8_E4M3, 2, 300, 4096, true));
        shapes.add(new LinearShape(DType.F8_E4M3, 70, 130, 1000, true));
        LINEAR_SHAPES = List.copyOf(shapes);
    }

    final CudaBackend cuda;
    /** The reference; every core of the machine, for the long attention checks. */
    final CpuBackend cpu = new CpuBackend(new CpuBackend.Options(Runtime.getRuntime().availableProcessors(), true));

    public BackendChecks(CudaBackend cuda) {
        this.cuda = cuda;
    }

    /** Every check but attention's ({@link AttentionChecks}) once, each on its own seed. */
    public List<CheckResult> all() {
        List<CheckResult> results = new ArrayList<>();
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F8_E4M3)) results.add(embed(dtype, 1000, 129, 7, seed()));
        results.add(embedPastStaging(seed()));
        for (int[] shape : new int[][] {{1, 1}, {3, 33}, {5, 1025}, {2, 5120}}) results.add(rmsNorm(shape[0], shape[1], seed()));
        for (LinearShape shape : LINEAR_SHAPES) results.add(linear(shape, seed()));
        // q, k and v (or gate and up) in one gemv: rows split over 1-8 warps by the group's rows, partial units
        results.add(linears(DType.F8_E4M3, 1, new int[] {8192, 1024, 1024}, 512, seed()));
        results.add(linears(DType.F8_E4M3, 5, new int[] {64, 16, 16}, 5120, seed()));
        results.add(linears(DType.BF16, 3, new int[] {300, 100, 100}, 1000, seed()));
        results.add(linears(DType.F32, 8, new int[] {129, 33}, 333, seed()));
        results.add(rope(5, 3, 64, seed()));
        results.add(rope(2, 2, 6, seed()));
        results.add(elementwise("scaleRows", 7, 33, seed()));
        results.add(elementwise("swiglu", 5, 1000, seed()));
        results.add(elementwise("add", 3, 4099, seed()));
        results.add(elementwise("zero", 3, 17, seed()));
        results.add(gather(9, 5, 129, seed()));
        return results;
    }

    static long seed() {
        return KernelChecks.seed();
    }

    public CheckResult embed(DType dtype, int vocab, int cols, int n, long seed) {
        String shape = n + " of " + vocab + "x" + cols;
        return KernelChecks.attempt("embed " + dtype, shape, seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Tensor table = RandomTensors.tensor("embedding", dtype, vocab, cols, random, 1);
            int[] ids = IntStream.range(0, n).map(i -> i == 0 ? 0 : i == 1 ? vocab - 1 : random.nextInt(vocab)).toArray();
            Pair out = output(n, cols);
            Weight g = cuda.weight(table), c = cpu.weight(table);
            Runnable op = () -> cuda.embed(g, ids, out.gpu());
            op.run();
            cpu.embed(c, ids, out.cpu());
            return compare("embed " + dtype, shape, seed, out, EXACT_BOUND, op);
        });
    }

    /**
     * Token ids are staged in page-locked memory for asynchronous copies; this uploads more than the staging holds
     * (300 different sets of 1000 ids, 1.2 MB) so it wraps around, and checks every embedding against the CPU.
     */
    public CheckResult embedPastStaging(long seed) {
        int vocab = 5000, cols = 8, n = 1000, rounds = 300;
        String shape = rounds + " x " + n + " ids";
        return KernelChecks.attempt("embed (staging wraps)", shape, seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Tensor table = RandomTensors.tensor("embedding", DType.F32, vocab, cols, random, 1);
            Weight g = cuda.weight(table), c = cpu.weight(table);
            List<Pair> outputs = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {  // every upload is enqueued before any result is read
                int[] ids = random.ints(n, 0, vocab).toArray();
                Pair out = output(n, cols);
                cuda.embed(g, ids, out.gpu());
                cuda.submit();  // as every forward ends: a captured step is launched, not dropped by the next one
                cpu.embed(c, ids, out.cpu());
                outputs.add(out);
            }
            CheckResult worst = null;
            for (Pair out : outputs) {
                CheckResult r = compare("embed (staging wraps)", shape, seed, read(cuda, out.gpu()), read(cpu, out.cpu()),
                        cuda.guardIntact(out.gpu()), EXACT_BOUND, Double.NaN);
                if (!r.passed()) return r;
                if (worst == null || r.maxRelativeError() > worst.maxRelativeError()) worst = r;
            }
            return worst;
        });
    }

    public CheckResult rmsNorm(int rows, int dim, long seed) {
        String shape = rows + "x" + dim;
        return KernelChecks.attempt("rmsNorm (bf16 gain)", shape, seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Tensor gain = RandomTensors.tensor("gain", DType.BF16, 1, dim, random, 2);
            Pair x = input(RandomTensors.floats(random, rows * dim, 3), rows, dim), out = output(rows, dim);
            Weight g = cuda.weight(gain), c = cpu.weight(gain);
            Runnable op = () -> cuda.rmsNorm(x.gpu(), g, 1e-5f, out.gpu());
            op.run();
            cpu.rmsNorm(x.cpu(), c, 1e-5f, out.cpu());
            return compare("rmsNorm (bf16 gain)", shape, seed, out, FP32_BOUND, op);
        });
    }

    /** Through linear_gemv/gemm_* (FP32 activations) even where tensor cores serve the shape: see {@link GemmChecks}. */
    public CheckResult linear(LinearShape s, long seed) {
        boolean tensorCores = cuda.useTensorCores(false);
        try {
            return simtLinear(s, seed);
        } finally {
            cuda.useTensorCores(tensorCores);
        }
    }

    private CheckResult simtLinear(LinearShape s, long seed) {
        return KernelChecks.attempt(s.check(), s.toString(), seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Tensor w = RandomTensors.tensor("w", s.dtype(), s.n(), s.k(), random, s.dtype() == DType.F8_E4M3 ? 8 : 0.5);
            float weightScale = s.dtype() == DType.F8_E4M3 ? 0.0625f : 1f;
            Linear layer = new Linear(w, weightScale, s.w8a8() ? 0.05f : Float.NaN);
            Pair x = input(RandomTensors.floats(random, s.m() * s.k(), 1), s.m(), s.k()), out = output(s.m(), s.n());
            Weight g = cuda.linear(layer), c = cpu.linear(layer);
            Runnable op = () -> cuda.linear(x.gpu(), g, out.gpu());
            op.run();
            cpu.linear(x.cpu(), c, out.cpu());
            return compare(s.check(), s.toString(), seed, out, SUM_BOUND, op);
        });
    }

    /**
     * Linears that share their input through {@link CudaBackend#linears} (one gemv launch for decode batches) against
     * the CPU's, every output at {@link #SUM_BOUND}; the SIMT kernels, as {@link #linear}.
     */
    public CheckResult linears(DType dtype, int m, int[] rows, int k, long seed) {
        String check = "linears " + dtype, shape = m + "x" + Arrays.toString(rows).replace(" ", "") + "x" + k;
        boolean tensorCores = cuda.useTensorCores(false);
        try {
            return KernelChecks.attempt(check, shape, seed, () -> {
                SplittableRandom random = new SplittableRandom(seed);
                Weight[] g = new Weight[rows.length], c = new Weight[rows.length];
                Pair[] outs = new Pair[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    Tensor w = RandomTensors.tensor("w" + i, dtype, rows[i], k, random, dtype == DType.F8_E4M3 ? 8 : 0.5);
                    Linear layer = new Linear(w, dtype == DType.F8_E4M3 ? 0.0625f * (i + 1) : 1f, Float.NaN);
                    g[i] = cuda.linear(layer);
                    c[i] = cpu.linear(layer);
                    outs[i] = output(m, rows[i]);
                }
                Pair x = input(RandomTensors.floats(random, m * k, 1), m, k);
                Activation[] gpuOuts = Arrays.stream(outs).map(Pair::gpu).toArray(Activation[]::new);
                Activation[] cpuOuts = Arrays.stream(outs).map(Pair::cpu).toArray(Activation[]::new);
                Runnable op = () -> cuda.linears(x.gpu(), g, gpuOuts);
                op.run();
                cpu.linears(x.cpu(), c, cpuOuts);
                List<float[]> got = new ArrayList<>(), want = new ArrayList<>();
                boolean guards = true;
                for (Pair out : outs) {
                    got.add(read(cuda, out.gpu()));
                    want.add(read(cpu, out.cpu()));
                    guards &= cuda.guardIntact(out.gpu());
                }
                return compare(check, shape, seed, concat(got), concat(want), guards, SUM_BOUND, cuda.timeMicros(op));
            });
        } finally {
            cuda.useTensorCores(tensorCores);
        }
    }

    private static float[] concat(List<float[]> parts) {
        float[] all = new float[parts.stream().mapToInt(p -> p.length).sum()];
        int at = 0;
        for (float[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    public CheckResult rope(int rows, int heads, int headDim, long seed) {
        String shape = rows + "x" + heads + "x" + headDim;
        return KernelChecks.attempt("rope", shape, seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            int angles = rows * headDim / 2;
            float[] cos = new float[angles], sin = new float[angles];
            for (int i = 0; i < angles; i++) {
                double theta = random.nextDouble(-10, 10);
                cos[i] = (float) Math.cos(theta);
                sin[i] = (float) Math.sin(theta);
            }
            Pair x = input(RandomTensors.floats(random, rows * heads * headDim, 2), rows, heads * headDim);
            cuda.rope(x.gpu(), headDim, cos, sin);
            cpu.rope(x.cpu(), headDim, cos, sin);
            return compare("rope", shape, seed, x, EXACT_BOUND, () -> cuda.rope(x.gpu(), headDim, cos, sin));
        });
    }

    /** The in-place element-wise ops: scaleRows, swiglu, add, zero. */
    public CheckResult elementwise(String op, int rows, int cols, long seed) {
        String shape = rows + "x" + cols;
        return KernelChecks.attempt(op, shape, seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Pair x = input(RandomTensors.floats(random, rows * cols, 4), rows, cols);
            Pair y = input(RandomTensors.floats(random, rows * cols, 4), rows, cols);
            float[] scale = RandomTensors.floats(random, rows, 2);
            Runnable gpu = switch (op) {
                case "scaleRows" -> () -> cuda.scaleRows(x.gpu(), scale);
                case "swiglu" -> () -> cuda.swiglu(x.gpu(), y.gpu());
                case "add" -> () -> cuda.add(x.gpu(), y.gpu());
                case "zero" -> () -> cuda.zero(x.gpu());
                default -> throw new IllegalArgumentException(op);
            };
            gpu.run();
            switch (op) {
                case "scaleRows" -> cpu.scaleRows(x.cpu(), scale);
                case "swiglu" -> cpu.swiglu(x.cpu(), y.cpu());
                case "add" -> cpu.add(x.cpu(), y.cpu());
                default -> cpu.zero(x.cpu());
            }
            return compare(op, shape, seed, x, op.equals("swiglu") ? FP32_BOUND : EXACT_BOUND, gpu);
        });
    }

    /** dst[i] = src[rows[i]] for n (repeated) rows of a [srcRows, cols] source. */
    public CheckResult gather(int srcRows, int n, int cols, long seed) {
        String shape = n + " of " + srcRows + "x" + cols;
        return KernelChecks.attempt("gatherRows", shape, seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            int[] rows = IntStream.range(0, n).map(i -> i == 0 ? srcRows - 1 : random.nextInt(srcRows)).toArray();
            Pair src = input(RandomTensors.floats(random, srcRows * cols, 1), srcRows, cols), dst = output(n, cols);
            Runnable op = () -> cuda.gatherRows(src.gpu(), rows, dst.gpu());
            op.run();
            cpu.gatherRows(src.cpu(), rows, dst.cpu());
            return compare("gatherRows", shape, seed, dst, EXACT_BOUND, op);
        });
    }

    /** dst[rows[i]] += weights[i] * src[i] with a repeated row, into a [dstRows, cols] destination. */

    // ---- plumbing

    /** The same matrix on both backends. */
    record Pair(Activation gpu, Activation cpu) {}

    /** {@code values} on both backends; on the device behind a poisoned guard. */
    Pair input(float[] values, int rows, int cols) {
        Activation gpu = cuda.allocate(rows, cols);
        cuda.poison(gpu);
        cuda.write(gpu, values);
        return new Pair(gpu, cpuInput(values, rows, cols));
    }

    /** {@code values} on the CPU backend alone. */
    Activation cpuInput(float[] values, int rows, int cols) {
        Activation a = cpu.allocate(rows, cols);
        cpu.embed(cpu.weight(Tensor.ofFloats("input", new long[] {rows, cols}, values)), IntStream.range(0, rows).toArray(), a);
        return a;
    }

    /** An output: poisoned (NaN) on the device, guard included. */
    Pair output(int rows, int cols) {
        Activation gpu = cuda.allocate(rows, cols);
        cuda.poison(gpu);
        return new Pair(gpu, cpu.allocate(rows, cols));
    }

    private CheckResult compare(String check, String shape, long seed, Pair out, double bound, Runnable timedOp) {
        float[] gpu = read(cuda, out.gpu()), reference = read(cpu, out.cpu());
        boolean guardIntact = cuda.guardIntact(out.gpu());
        double micros = cuda.timeMicros(timedOp);
        return compare(check, shape, seed, gpu, reference, guardIntact, bound, micros);
    }

    /**
     * The relative error of each element, measured against the larger of the reference element and the reference's
     * RMS (so elements that cancel to near zero are not judged on their own tiny magnitude); NaN anywhere fails.
     */
    static CheckResult compare(String check, String shape, long seed, float[] actual, float[] reference,
                               boolean guardIntact, double bound, double micros) {
        double sumSquares = 0;
        for (float r : reference) sumSquares += (double) r * r;
        double floor = Math.max(Math.sqrt(sumSquares / Math.max(1, reference.length)), Float.MIN_NORMAL);
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < reference.length; i++) {
            if (Float.isNaN(actual[i])) {
                return new CheckResult(check, shape, seed, false, Double.NaN, bound, micros,
                        "element " + i + " is NaN: unwritten (still poisoned) or invalid");
            }
            double error = Math.abs(actual[i] - reference[i]) / Math.max(Math.abs(reference[i]), floor);
            if (error > worst) {
                worst = error;
                worstIndex = i;
            }
        }
        if (!guardIntact) return new CheckResult(check, shape, seed, false, worst, bound, micros, "wrote past the output");
        boolean passed = worst <= bound;
        String detail = passed ? "" : "element " + worstIndex + ": " + actual[worstIndex] + " vs " + reference[worstIndex];
        return new CheckResult(check, shape, seed, passed, worst, bound, micros, detail);
    }

    static float[] read(Backend backend, Activation x) {
        float[] all = new float[x.rows() * x.cols()], row = new float[x.cols()];
        for (int r = 0; r < x.rows(); r++) {
            backend.readRow(x, r, row);
            System.arraycopy(row, 0, all, r * x.cols(), x.cols());
        }
        return all;
    }

    @Override
    public void close() {
        cpu.close();
    }
}
