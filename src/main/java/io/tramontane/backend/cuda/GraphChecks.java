package io.tramontane.backend.cuda;

import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.TrialPolicy;
import io.tramontane.bench.BenchModel;
import io.tramontane.bench.ModelShape;
import io.tramontane.bench.SequenceBatch;
import io.tramontane.model.Model;
import io.tramontane.model.Shard;
import io.tramontane.model.Step;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The GPU check of decode steps as CUDA graphs ({@link StepGraphs}): the same steps through two models, one launching
 * kernel by kernel and one capturing each step and launching its graph. The logits must agree bit for bit (the same
 * kernels in the same order); the graphs must really have run (one executable per step size, updated in place from
 * then on); the detail gives both step times, which is what graphs are for.
 */
public final class GraphChecks {
    static final String SHAPE = "dim=1024,layers=8,heads=16,kv_heads=4,head_dim=64,hidden=2816,vocab=32768";
    static final int SEQUENCES = 4, PROMPT = 8, STEPS = 32, BLOCK = 16;

    private GraphChecks() {}

    private record Run(float[][][] logits, double decodeMillis, long[] counts) {}

    public static CheckResult decode(long seed) {
        String check = "decode graphs", shape = SEQUENCES + " x " + STEPS + " steps";
        return KernelChecks.attempt(check, shape, seed, () -> {
            try (BenchModel model = BenchModel.synthetic(ModelShape.parse(SHAPE), "bf16", seed)) {
                SequenceBatch batch = new SequenceBatch(SEQUENCES, PROMPT + STEPS, BLOCK, model.config().vocabSize(), seed);
                List<Step> steps = new ArrayList<>(List.of(batch.prefill(PROMPT)));
                for (int i = 0; i < STEPS; i++) steps.add(batch.decode(PROMPT + i));
                Run eager = run(model, steps, false), graphs = run(model, steps, true);
                for (int i = 0; i < steps.size(); i++) {
                    for (int r = 0; r < eager.logits()[i].length; r++) {
                        if (!Arrays.equals(eager.logits()[i][r], graphs.logits()[i][r])) {
                            return CheckResult.failed(check, shape, seed, "step " + i + " row " + r + ": logits differ from kernel-by-kernel launches");
                        }
                    }
                }
                long launches = graphs.counts()[0], updates = graphs.counts()[1], instantiations = graphs.counts()[2];
                String counts = launches + " graph launches, " + updates + " updates, " + instantiations + " instantiations";
                // every step is at most StepGraphs.MAX_TOKENS tokens; two sizes (prefill, decode), a few re-instantiations
                // at most where an attention plan changes shape
                if (launches != steps.size() || instantiations > 4 || eager.counts()[0] != 0) {
                    return CheckResult.failed(check, shape, seed, "graphs not used as expected: " + counts);
                }
                String detail = String.format(Locale.ROOT, "decode %.3f ms/step kernel by kernel, %.3f with graphs (%.2fx); %s",
                        eager.decodeMillis(), graphs.decodeMillis(), eager.decodeMillis() / graphs.decodeMillis(), counts);
                return new CheckResult(check, shape, seed, true, 0, 0, graphs.decodeMillis() * 1000, detail);
            }
        });
    }

    /** The steps on a fresh model on device 0 with or without graphs: every step's logits, the decode steps' mean time. */
    private static Run run(BenchModel model, List<Step> steps, boolean graphs) {
        var options = new CudaBackend.Options(0, true, CudaBackend.Options.defaults().activationBudget(), KvCacheDtype.BF16,
                false, graphs ? TrialPolicy.ON : TrialPolicy.OFF);
        CudaBackend backend = CudaBackend.open(options);
        int blocks = SequenceBatch.blocksNeeded(SEQUENCES, PROMPT + STEPS, BLOCK);
        try (Model m = new Model(model.weights(), backend, Shard.of(model.config(), 0, 1), blocks, BLOCK)) {
            float[][][] logits = new float[steps.size()][][];
            logits[0] = m.forward(steps.getFirst());
            logits[1] = m.forward(steps.get(1));  // the first decode step instantiates its graph: not timed
            long start = System.nanoTime();
            for (int i = 2; i < steps.size(); i++) logits[i] = m.forward(steps.get(i));
            double millis = (System.nanoTime() - start) / 1e6 / (steps.size() - 2);
            return new Run(logits, millis, backend.graphCounts());
        }
    }
}
