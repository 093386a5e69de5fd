package io.tramontane.backend.cuda;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Backend;
import io.tramontane.backend.ExpertRoutes;
import io.tramontane.backend.Weight;
import io.tramontane.backend.cuda.BackendChecks.Pair;
import io.tramontane.weights.DType;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * CudaBackend's MoE ops (moe.cu) against CpuBackend's on fresh random inputs, and a Mixtral-shaped decode timing line. Router logits are multiples of 1/4, so
 * ties are frequent (they must go to the lower expert index, as on the CPU), and the last expert's logits are far below
 * the others', so it gets no tokens. Outputs are NaN-poisoned with a poisoned guard behind them.
 * <ul>
 *   <li>{@code moe routing}: routeExperts, then gatherRouted (the sorted order: exact) and combineRouted of random
 *   expert outputs (the weights and inverse permutation: one fma per term against the CPU's fma/mul-add, so
 *   {@link BackendChecks#FP32_BOUND});</li>
 *   <li>{@code moe ffn DTYPE}: a whole MoE FFN (route, gather, w1 and w3, swiglu, w2, combine) with expert weights in
 *   F32, BF16 or FP8 (weight-only, and static w8a8 on w1 and w3), decode shapes on the grouped gemv, prefill shapes on the grouped
 *   gemm; long FP32 dot products summed in another order than the CPU's: {@link BackendChecks#SUM_BOUND}.</li>
 * </ul>
 */
public final class MoeChecks {

    /** {@code tokens} tokens of width {@code dim} over {@code experts} experts of hidden size {@code hidden}, top-k. */
    public record MoeShape(int tokens, int experts, int topK, int dim, int hidden) {
        @Override
        public String toString() {
            return tokens + "t " + experts + "e top" + topK + " " + dim + "/" + hidden;
        }
    }

    /**
     * Decode (1 token; 5 tokens top-2 = 10 rows on the grouped gemv, 4-row tiles) and prefill (40 tokens top-2 = 80
     * rows, 67 tokens top-1: over 8 rows per expert, the grouped gemm's 64-row tiles) with odd widths; 8 experts as
     * Mixtral, 40 experts (more than a warp's lanes: the router's per-lane loop) top-3.
     */
    public static final List<MoeShape> SHAPES = List.of(new MoeShape(1, 8, 2, 64, 96), new MoeShape(5, 8, 2, 33, 70),
            new MoeShape(40, 8, 2, 129, 100), new MoeShape(67, 8, 1, 64, 33), new MoeShape(9, 40, 3, 40, 24));

    /** The timing line's shape: Mixtral 8x7B's experts (dim 4096, hidden 14336, 8 experts, top-2), one decode token. */
    static final MoeShape TIMING_SHAPE = new MoeShape(1, 8, 2, 4096, 14336);

    private final BackendChecks ops;

    public MoeChecks(BackendChecks ops) {
        this.ops = ops;
    }

    /** Every MoE check once, each on its own seed, then the timing line. */
    public List<CheckResult> all(AttentionChecks.Roofline roofline) {
        List<CheckResult> results = new ArrayList<>();
        for (MoeShape shape : SHAPES) results.add(routing(shape, BackendChecks.seed()));
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F8_E4M3)) {
            for (MoeShape shape : List.of(SHAPES.get(1), SHAPES.get(2))) results.add(ffn(dtype, false, shape, BackendChecks.seed()));
        }
        results.add(ffn(DType.F8_E4M3, true, SHAPES.get(0), BackendChecks.seed()));
        results.add(ffn(DType.F8_E4M3, true, SHAPES.get(3), BackendChecks.seed()));
        results.add(decodeTiming(roofline, BackendChecks.seed()));
        return results;
    }

    /**
     * Router logits {@code [tokens, experts]}: multiples of 1/4 in [-2, 2] (frequent ties), the last expert's at -64 (no
     * token reaches it) unless every expert is needed.
     */
    static float[] logits(SplittableRandom random, MoeShape s) {
        float[] logits = new float[s.tokens() * s.experts()];
        for (int t = 0; t < s.tokens(); t++) {
            for (int e = 0; e < s.experts(); e++) {
                boolean idle = e == s.experts() - 1 && s.topK() < s.experts();
                logits[t * s.experts() + e] = idle ? -64f : random.nextInt(-8, 9) / 4f;
            }
        }
        return logits;
    }

    public CheckResult routing(MoeShape s, long seed) {
        String check = "moe routing";
        return KernelChecks.attempt(check, s.toString(), seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Pair logits = ops.input(logits(random, s), s.tokens(), s.experts());
            Pair x = ops.input(RandomTensors.floats(random, s.tokens() * s.dim(), 1), s.tokens(), s.dim());
            int rows = s.tokens() * s.topK();
            Pair ySorted = ops.input(RandomTensors.floats(random, rows * s.dim(), 1), rows, s.dim());
            Pair xSorted = ops.output(rows, s.dim()), out = ops.output(s.tokens(), s.dim());
            ExpertRoutes cpuRoutes = ops.cpu.routeExperts(logits.cpu(), s.topK());
            ops.cpu.gatherRouted(x.cpu(), cpuRoutes, xSorted.cpu());
            ops.cpu.combineRouted(ySorted.cpu(), cpuRoutes, out.cpu());
            Runnable gpu = () -> {
                ExpertRoutes routes = ops.cuda.routeExperts(logits.gpu(), s.topK());
                ops.cuda.gatherRouted(x.gpu(), routes, xSorted.gpu());
                ops.cuda.combineRouted(ySorted.gpu(), routes, out.gpu());
            };
            gpu.run();
            CheckResult gathered = compare(check + " (gather)", s, seed, xSorted, BackendChecks.EXACT_BOUND, gpu);
            if (!gathered.passed()) return gathered;
            CheckResult combined = compare(check, s, seed, out, BackendChecks.FP32_BOUND, gpu);
            return new CheckResult(check, s.toString(), seed, combined.passed(), Math.max(gathered.maxRelativeError(),
                    combined.maxRelativeError()), combined.bound(), combined.micros(), combined.detail());
        });
    }

    public CheckResult ffn(DType dtype, boolean w8a8, MoeShape s, long seed) {
        String check = "moe ffn " + dtype + (w8a8 ? " w8a8" : "") + (MoeKernels.tileRows(s.tokens() * s.topK(), s.experts()) == MoeKernels.GEMV_TILE_ROWS ? " gemv" : " gemm");
        return KernelChecks.attempt(check, s.toString(), seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            List<Linear> w1 = experts(random, dtype, w8a8, s.experts(), s.hidden(), s.dim());
            List<Linear> w3 = experts(random, dtype, w8a8, s.experts(), s.hidden(), s.dim());
            // w2's input is the swiglu, whose last bits differ from the CPU's: e4m3 rounding could then flip an element
            List<Linear> w2 = experts(random, dtype, false, s.experts(), s.dim(), s.hidden());
            return ffnAgainstCpu(check, s, seed, random, w1, w3, w2, 1);
        });
    }

    /**
     * A decode token through a Mixtral-shaped MoE FFN with FP8 experts (random; the 8 experts share three random matrices,
     * uploaded once per expert, so the device holds 1.4 GB as a real layer would), checked against the CPU at
     * {@link BackendChecks#SUM_BOUND}; GB/s of the two chosen experts' weights (352 MB) against the measured read
     * bandwidth. The time is the whole FFN after the router: route, gather, three grouped gemvs, swiglu, combine.
     */
    public CheckResult decodeTiming(AttentionChecks.Roofline roofline, long seed) {
        MoeShape s = TIMING_SHAPE;
        String check = "moe decode (timing)";
        return KernelChecks.attempt(check, s + " FP8", seed, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Tensor up = RandomTensors.tensor("w1", DType.F8_E4M3, s.hidden(), s.dim(), random, 8);
            Tensor gate = RandomTensors.tensor("w3", DType.F8_E4M3, s.hidden(), s.dim(), random, 8);
            Tensor down = RandomTensors.tensor("w2", DType.F8_E4M3, s.dim(), s.hidden(), random, 8);
            List<Linear> w1 = shared(up, s.experts()), w3 = shared(gate, s.experts()), w2 = shared(down, s.experts());
            CheckResult result = ffnAgainstCpu(check, s, seed, random, w1, w3, w2, 2);  // the second run warm
            double bytes = (double) s.topK() * 3 * s.hidden() * s.dim(), rate = bytes / (result.micros() * 1e-6);
            String note = String.format(Locale.ROOT, "%.0f GB/s of expert weights = %s of the measured %.0f GB/s", rate / 1e9,
                    Double.isFinite(rate / roofline.readBytesPerSecond())
                            ? String.format(Locale.ROOT, "%.0f%%", 100 * rate / roofline.readBytesPerSecond()) : "n/a",
                    roofline.readBytesPerSecond() / 1e9);
            return new CheckResult(check, result.shape(), seed, result.passed(), result.maxRelativeError(), result.bound(),
                    result.micros(), (result.detail() + " " + note).strip());
        });
    }

    /** One weight-only FP8 linear per expert, all on the same matrix (scale 1/16). */
    private static List<Linear> shared(Tensor w, int experts) {
        return java.util.Collections.nCopies(experts, new Linear(w, 0.0625f, Float.NaN));
    }

    /**
     * Random router logits and x (drawn from {@code random} now) through the FFN of experts w1, w3, w2 on the CPU once
     * and on the GPU {@code gpuRuns} times, the GPU's output compared with the CPU's and the last run timed again.
     */
    private CheckResult ffnAgainstCpu(String check, MoeShape s, long seed, SplittableRandom random, List<Linear> w1,
                                      List<Linear> w3, List<Linear> w2, int gpuRuns) {
        Pair logits = ops.input(logits(random, s), s.tokens(), s.experts());
        Pair x = ops.input(RandomTensors.floats(random, s.tokens() * s.dim(), 1), s.tokens(), s.dim());
        Pair out = ops.output(s.tokens(), s.dim());
        ffn(ops.cpu, s, List.of(ops.cpu.experts(w1), ops.cpu.experts(w3), ops.cpu.experts(w2)), logits.cpu(), x.cpu(), out.cpu());
        List<Weight> gpuWeights = List.of(ops.cuda.experts(w1), ops.cuda.experts(w3), ops.cuda.experts(w2));
        Runnable gpu = () -> ffn(ops.cuda, s, gpuWeights, logits.gpu(), x.gpu(), out.gpu());
        for (int run = 0; run < gpuRuns; run++) gpu.run();
        return compare(check, s, seed, out, BackendChecks.SUM_BOUND, gpu);
    }

    /** The MoE FFN as Model.mixtureOfExperts runs it, from the router logits on. */
    private static void ffn(Backend b, MoeShape s, List<Weight> w, Activation logits, Activation x,
                            Activation out) {
        int rows = s.tokens() * s.topK();
        ExpertRoutes routes = b.routeExperts(logits, s.topK());
        Activation xSorted = b.allocate(rows, s.dim()), gate = b.allocate(rows, s.hidden()), up = b.allocate(rows, s.hidden());
        b.gatherRouted(x, routes, xSorted);
        b.expertLinear(xSorted, w.get(0), routes, gate);
        b.expertLinear(xSorted, w.get(1), routes, up);
        b.swiglu(gate, up);
        Activation ySorted = b.allocate(rows, s.dim());
        b.expertLinear(gate, w.get(2), routes, ySorted);
        b.combineRouted(ySorted, routes, out);
    }

    /** {@code experts} linears [rows, cols]; FP8 ones with a per-expert weight scale (and activation scale under w8a8). */
    private static List<Linear> experts(SplittableRandom random, DType dtype, boolean w8a8, int experts, int rows, int cols) {
        List<Linear> linears = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            boolean fp8 = dtype == DType.F8_E4M3;
            Tensor w = RandomTensors.tensor("expert" + e, dtype, rows, cols, random, fp8 ? 8 : 0.5);
            linears.add(new Linear(w, fp8 ? 0.0625f * (1 + e % 3) : 1f, w8a8 ? 0.05f / (1 + e % 2) : Float.NaN));
        }
        return linears;
    }

    private CheckResult compare(String check, MoeShape s, long seed, Pair out, double bound, Runnable timedOp) {
        float[] gpu = BackendChecks.read(ops.cuda, out.gpu()), reference = BackendChecks.read(ops.cpu, out.cpu());
        boolean guardIntact = ops.cuda.guardIntact(out.gpu());
        // best of several: one run can carry a first launch's cost (lazy module loading: 12.6 ms against 0.35 in one
        // H200 run of the decode timing, 2026-11-26)
        double micros = GemmBaselineChecks.best(() -> ops.cuda.timeMicros(timedOp));
        return BackendChecks.compare(check, s.toString(), seed, gpu, reference, guardIntact, bound, micros);
    }
}
