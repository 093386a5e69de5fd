package io.tramontane.bench;

import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.engine.ModelFactory;
import io.tramontane.model.LanguageModel;
import java.util.Optional;

/**
 * Prefill throughput: {@code batch} prompts of {@code prompt} tokens each in one forward step, as a
 * fresh request's first step, on the CPU or the CUDA backend. Prefill multiplies every weight with many tokens,
 * so it is judged by flops (see {@link ModelCost#prefillFlops}) against the measured FMA peak.
 */
public final class PrefillBench {
    private static final int BLOCK_SIZE = 16;

    /**
     * @param runs       timed prefills; the best is reported
     * @param cpuWeights linears as stored or quantized at load
     * @param backend    {@code cpu} or {@code cuda} (device 0)
     */
    public record Settings(int threads, int batch, int prompt, int runs, long seed, CpuWeights cpuWeights, KvCacheDtype kvCache,
                           String backend) {
        public Settings {
            if (threads < 1 || batch < 1 || prompt < 1 || runs < 1) {
                throw new IllegalArgumentException("threads, batch, prompt and runs must be >= 1");
            }
            BenchModel.requireBackend(backend, cpuWeights, kvCache);
        }

        /** On the CPU backend, a BF16 KV cache. */
        public Settings(int threads, int batch, int prompt, int runs, long seed, CpuWeights cpuWeights) {
            this(threads, batch, prompt, runs, seed, cpuWeights, KvCacheDtype.BF16, "cpu");
        }
    }

    /**
     * @param cpuWeights         {@code stored}, {@code copied}, {@code q8} or {@code q4}
     * @param kvCache            the KV cache's dtype: {@code bf16}, {@code f32} or {@code fp8}
     * @param tokens             prompt tokens of one prefill, all sequences
     * @param seconds            the best run
     * @param gflopsPerSecond    10^9 flops per second in the best run
     * @param rooflineGflops     the peak to compare with (the CPU's cached FMA roofline at this thread count, the
     *                           device's dense tensor-core peak on cuda), or null
     * @param rooflineFraction   achieved / roofline, or null without a cached roofline
     */
    public record Result(String model, String shape, String dtype, String backend, String cpuWeights, String kvCache, int threads,
                         int batch, int prompt,
                         int tokens,
                         double seconds, double[] runSeconds, double tokensPerSecond, double flops,
                         double gflopsPerSecond, Double rooflineGflops, Double rooflineFraction, Machine machine) {}

    private PrefillBench() {}

    /** On the CPU backend, against the cached roofline when there is one. */
    public static Result run(BenchModel model, Settings settings, Optional<Roofline> roofline) {
        return run(model, settings, roofline.map(r -> r.at(settings.threads()).fmaGflops()).orElse(null));
    }

    /** @param ceiling the peak (GFLOP/s) to compare with, or null */
    public static Result run(BenchModel model, Settings settings, Double ceiling) {
        int blocks = SequenceBatch.blocksNeeded(settings.batch(), settings.prompt(), BLOCK_SIZE);
        var options = new ModelFactory.Options(settings.threads(), 1, blocks, BLOCK_SIZE, true, settings.cpuWeights());
        SequenceBatch batch = new SequenceBatch(settings.batch(), settings.prompt(), BLOCK_SIZE,
                model.config().vocabSize(), settings.seed());
        double[] runSeconds = new double[settings.runs()];
        double best = Double.MAX_VALUE;
        try (LanguageModel lm = model.load(settings.backend(), options, settings.kvCache())) {
            // a whole prompt first, as llama.cpp's bench does: a long prompt runs code a short one does not (attention
            // over more chunks, more token panels), and its first run, JIT-compiling that, measured 5-25% slower
            lm.forward(batch.prefill(settings.prompt()));
            for (int r = 0; r < settings.runs(); r++) {
                var step = batch.prefill(settings.prompt());  // overwrites the same cache blocks: a fresh request each time
                long start = System.nanoTime();
                lm.forward(step);
                runSeconds[r] = (System.nanoTime() - start) * 1e-9;
                best = Math.min(best, runSeconds[r]);
            }
        }
        int tokens = settings.batch() * settings.prompt();
        double flops = ModelCost.of(model.weights()).prefillFlops(settings.prompt(), settings.batch());
        double gflops = flops / best / 1e9;
        return new Result(model.name(), ModelShape.describe(model.config()), model.dtype(), settings.backend(),
                settings.cpuWeights().cliName(), settings.kvCache().cliName(), settings.threads(),
                settings.batch(), settings.prompt(), tokens, best, runSeconds, tokens / best, flops, gflops,
                ceiling, ceiling == null ? null : gflops / ceiling, Machine.now());
    }
}
