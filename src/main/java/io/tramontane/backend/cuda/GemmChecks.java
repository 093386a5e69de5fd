package io.tramontane.backend.cuda;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Weight;
import io.tramontane.backend.cuda.AttentionChecks.Roofline;
import io.tramontane.backend.cuda.BackendChecks.Pair;
import io.tramontane.weights.DType;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * CudaBackend.linear on tensor cores ({@link TensorCoreGemm}) against CpuBackend.linear, and its timing lines on
 * Devstral-Small-shaped prefill linears. The reference is the CPU's linear on the input the GPU actually multiplies:
 * x rounded to BF16 (BF16 weights), e4m3(x / s) (static w8a8: the CPU quantizes the same way itself), or e4m3 with the
 * per-token scale max |x| / 448 (FP8 weights without an activation scale). What remains is the accumulation:
 * {@link #BF16_BOUND} and {@link #FP8_BOUND}. The error against the unrounded FP32 input (what the engine loses by
 * using tensor cores) is reported in the detail, not judged. Outputs are NaN-poisoned, guard included.
 */
public final class GemmChecks {
    /** BF16 wgmma accumulates in FP32: only the order of the sums differs from the CPU's (k up to 32768). */
    static final double BF16_BOUND = 2e-4;
    /**
     * FP8 wgmma on sm_90 keeps fewer accumulator bits than FP32 (about 14 mantissa bits are reported for the partial
     * sums that precede each FP32 accumulation): a few 2^-14 relative to the output's RMS.
     */
    static final double FP8_BOUND = 2e-3;

    /** What the GPU multiplies: BF16 x BF16, or e4m3 x e4m3 with a static or a per-token activation scale. */
    public enum Mode {
        BF16("bf16"), FP8_STATIC("e4m3 w8a8"), FP8_PER_TOKEN("e4m3 token");

        final String label;

        Mode(String label) {
            this.label = label;
        }

        DType weightType() {
            return this == BF16 ? DType.BF16 : DType.F8_E4M3;
        }

        double bound() {
            return this == BF16 ? BF16_BOUND : FP8_BOUND;
        }
    }

    public record GemmShape(Mode mode, int m, int n, int k) {
        @Override
        public String toString() {
            return m + "x" + n + "x" + k;
        }
    }

    /** Partial tiles in m, n and k (odd n: the epilogue's scalar stores), k below one tile, more k-tiles than stages. */
    public static final List<GemmShape> SHAPES;
    /** Devstral Small 24B (dim 5120, q 4096, kv 1024, hidden 32768): q, k/v, o, gate/up, down; 2048 and 4096 tokens. */
    public static final List<GemmShape> TIMING_SHAPES;

    static {
        List<GemmShape> shapes = new ArrayList<>(), timing = new ArrayList<>();
        for (Mode mode : Mode.values()) {
            shapes.add(new GemmShape(mode, 9, 70, 33));
            shapes.add(new GemmShape(mode, 130, 257, 1000));
            shapes.add(new GemmShape(mode, 300, 1029, 4100));
            shapes.add(new GemmShape(mode, 1000, 640, 5120));
        }
        for (Mode mode : List.of(Mode.BF16, Mode.FP8_PER_TOKEN)) {
            for (int[] nk : new int[][] {{4096, 5120}, {1024, 5120}, {5120, 4096}, {32768, 5120}, {5120, 32768}}) {
                for (int m : new int[] {2048, 4096}) timing.add(new GemmShape(mode, m, nk[0], nk[1]));
            }
        }
        SHAPES = List.copyOf(shapes);
        TIMING_SHAPES = List.copyOf(timing);
    }

    /** Rows of a timing line's output compared with the CPU (all of them would take the CPU minutes). */
    static final int TIMING_ROWS_CHECKED = 4;

    private final BackendChecks ops;

    GemmChecks(BackendChecks ops) {
        this.ops = ops;
    }

    /** Every check once, each on its own seed, then the timing lines; one skipped line where no tensor cores serve. */
    List<CheckResult> all(Roofline roofline, String smName) {
        if (!ops.cuda.hasTensorCoreGemm()) {
            return List.of(new CheckResult("linear tensor cores", "-", 0, true, Double.NaN, Double.NaN, Double.NaN,
                    "skipped: " + smName + " is not sm_90, its linears use linear_gemm_*"));
        }
        List<CheckResult> results = new ArrayList<>();
        for (GemmShape shape : SHAPES) results.add(linear(shape, BackendChecks.seed()));
        for (GemmShape shape : TIMING_SHAPES) results.add(timing(shape, roofline, BackendChecks.seed()));
        return results;
    }

    /** The whole output against the CPU; the time is one warm linear (input conversion + GEMM). */
    public CheckResult linear(GemmShape s, long seed) {
        String check = "linear tc " + s.mode().label;
        return KernelChecks.attempt(check, s.toString(), seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Layer layer = layer(s, random);
            float[] x = RandomTensors.floats(random, s.m() * s.k(), 1);
            Pair input = ops.input(x, s.m(), s.k()), multiplied = ops.input(multiplied(s.mode(), x, s.m(), s.k()), s.m(), s.k());
            Pair out = ops.output(s.m(), s.n());
            requireTensorCores(layer, s.m());
            Runnable op = () -> ops.cuda.linear(input.gpu(), layer.gpu(), out.gpu());
            op.run();
            ops.cpu.linear(multiplied.cpu(), layer.cpu(), out.cpu());
            float[] gpu = BackendChecks.read(ops.cuda, out.gpu()), reference = BackendChecks.read(ops.cpu, out.cpu());
            boolean guardIntact = ops.cuda.guardIntact(out.gpu());
            double micros = ops.cuda.timeMicros(op);
            CheckResult result = BackendChecks.compare(check, s.toString(), seed, gpu, reference, guardIntact, s.mode().bound(),
                    micros);
            if (!result.passed()) return result;
            Activation fp32 = ops.cpu.allocate(s.m(), s.n());
            ops.cpu.linear(input.cpu(), layer.unquantizedCpu(), fp32);
            double loss = BackendChecks.compare(check, "", seed, gpu, BackendChecks.read(ops.cpu, fp32), true, 1, 0)
                    .maxRelativeError();
            return withDetail(result, String.format(Locale.ROOT, "vs FP32 input %.1e", loss));
        });
    }

    /**
     * Best of three warm linears on a prefill shape, TFLOP/s (2mnk per linear) against the dense tensor peak of the
     * input type (FP8 twice BF16's on sm_90); {@value #TIMING_ROWS_CHECKED} rows of the output checked against the CPU.
     */
    public CheckResult timing(GemmShape s, Roofline roofline, long seed) {
        String check = "tc timing " + s.mode().label;
        return KernelChecks.attempt(check, s.toString(), seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Layer layer = layer(s, random);
            int[] rows = {0, s.m() / 2 + 1, s.m() - 2, s.m() - 1};
            float[] x = RandomTensors.floats(random, s.m() * s.k(), 1);
            Activation input = ops.cuda.allocate(s.m(), s.k()), out = ops.cuda.allocate(s.m(), s.n());
            ops.cuda.write(input, x);
            ops.cuda.poison(out);
            requireTensorCores(layer, s.m());
            Runnable op = () -> ops.cuda.linear(input, layer.gpu(), out);
            op.run();
            float[] sampled = new float[TIMING_ROWS_CHECKED * s.k()];
            for (int i = 0; i < rows.length; i++) System.arraycopy(x, rows[i] * s.k(), sampled, i * s.k(), s.k());
            Pair multiplied = ops.input(multiplied(s.mode(), sampled, TIMING_ROWS_CHECKED, s.k()), TIMING_ROWS_CHECKED, s.k());
            Activation reference = ops.cpu.allocate(TIMING_ROWS_CHECKED, s.n());
            ops.cpu.linear(multiplied.cpu(), layer.cpu(), reference);
            float[] gpu = new float[TIMING_ROWS_CHECKED * s.n()], row = new float[s.n()];
            for (int i = 0; i < rows.length; i++) {
                ops.cuda.readRow(out, rows[i], row);
                System.arraycopy(row, 0, gpu, i * s.n(), s.n());
            }
            boolean guardIntact = ops.cuda.guardIntact(out);
            double micros = Double.POSITIVE_INFINITY;
            for (int i = 0; i < 3; i++) micros = Math.min(micros, ops.cuda.timeMicros(op));
            CheckResult result = BackendChecks.compare(check, s.toString(), seed, gpu, BackendChecks.read(ops.cpu, reference),
                    guardIntact, s.mode().bound(), micros);
            if (!result.passed()) return result;
            double rate = 2.0 * s.m() * s.n() * s.k() / (micros * 1e-6);
            double peak = s.mode() == Mode.BF16 ? roofline.bf16FlopsPerSecond() : 2 * roofline.bf16FlopsPerSecond();
            return withDetail(result, String.format(Locale.ROOT, "%.0f TFLOP/s = %s of the dense %s peak %.0f TFLOP/s",
                    rate / 1e12, Double.isFinite(rate / peak) ? String.format(Locale.ROOT, "%.0f%%", 100 * rate / peak) : "n/a",
                    s.mode() == Mode.BF16 ? "BF16" : "FP8", peak / 1e12));
        });
    }

    /**
     * The FP32 values the GPU multiplies for input {@code x} [rows, k]: BF16-rounded, per-token e4m3 (decoded and
     * multiplied back by the row's scale), or x itself for static w8a8 (the CPU weight quantizes it identically).
     */
    static float[] multiplied(Mode mode, float[] x, int rows, int k) {
        float[] out = x.clone();
        switch (mode) {
            case BF16 -> {
                for (int i = 0; i < out.length; i++) out[i] = Floats.bf16ToFloat(Floats.floatToBf16(x[i]));
            }
            case FP8_PER_TOKEN -> {
                for (int r = 0; r < rows; r++) {
                    float max = 0;
                    for (int c = 0; c < k; c++) max = Math.max(max, Math.abs(x[r * k + c]));
                    float scale = max > 0 ? max / 448f : 1f;  // gemm_input_e4m3_rows
                    for (int c = 0; c < k; c++) out[r * k + c] = Floats.e4m3ToFloat(Floats.floatToE4m3(x[r * k + c] / scale)) * scale;
                }
            }
            case FP8_STATIC -> {}
        }
        return out;
    }

    /** One random linear on both backends; {@code unquantizedCpu} multiplies the FP32 input as it is. */
    private record Layer(Weight gpu, Weight cpu, Weight unquantizedCpu) {}

    private Layer layer(GemmShape s, SplittableRandom random) {
        boolean fp8 = s.mode() != Mode.BF16;
        Tensor w = RandomTensors.tensor("w", s.mode().weightType(), s.n(), s.k(), random, fp8 ? 8 : 0.5);
        float weightScale = fp8 ? 0.0625f : 1f;
        Linear linear = new Linear(w, weightScale, s.mode() == Mode.FP8_STATIC ? 0.01f : Float.NaN);
        Weight cpu = ops.cpu.linear(linear);
        Weight unquantized = s.mode() == Mode.FP8_STATIC ? ops.cpu.linear(new Linear(w, weightScale, Float.NaN)) : cpu;
        return new Layer(ops.cuda.linear(linear), cpu, unquantized);
    }

    private void requireTensorCores(Layer layer, int m) {
        if (!ops.cuda.usesTensorCores(CudaWeight.of(layer.gpu()), m)) {
            throw new IllegalStateException("CudaBackend does not route this linear to tensor cores");
        }
    }

    private static CheckResult withDetail(CheckResult r, String detail) {
        return new CheckResult(r.check(), r.shape(), r.seed(), r.passed(), r.maxRelativeError(), r.bound(), r.micros(), detail);
    }
}
