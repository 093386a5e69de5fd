package io.tramontane.bench;

import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.engine.JitSettle;
import io.tramontane.engine.ModelFactory;
import io.tramontane.host.HugePages;
import io.tramontane.model.LanguageModel;
import io.tramontane.sampling.DrawRequest;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Decode throughput: {@code batch} sequences advance one token per forward step after a context of {@code context}
 * positions (llama-bench's depth; 0: from position 0), on the CPU or the CUDA backend. Decode streams every weight
 * once per step, and each sequence's cached keys and values, so the figure that matters is those bytes per step
 * times steps per second against the measured read bandwidth.
 */
public final class DecodeBench {
    private static final int BLOCK_SIZE = 16;
    /** Positions per forward pass while the context fills. */
    private static final int FILL_CHUNK = 512;

    /** The default of {@code settleSeconds}. */
    public static final double SETTLE_SECONDS = 30;

    /**
     * @param context       positions filled (by prefill, untimed) before the warm-up steps
     * @param warmup        untimed steps first, at positions {@code [context, context + warmup)}; 0: none at all
     * @param settleSeconds after those, more warm-up steps at the same positions until the JIT has nothing left to
     *                      compile ({@link JitSettle}), for at most this long: compiles share the cores with the timed
     *                      steps otherwise. 0: stop after {@code warmup} steps
     * @param cpuWeights linears as stored or quantized at load
     * @param kvCache    the KV cache's dtype
     * @param backend    {@code cpu} or {@code cuda} (device 0)
     */
    public record Settings(int threads, int batch, int context, int tokens, int warmup, double settleSeconds, long seed,
                           CpuWeights cpuWeights, KvCacheDtype kvCache, String backend) {
        public Settings {
            if (threads < 1 || batch < 1 || tokens < 1 || context < 0 || warmup < 0 || !(settleSeconds >= 0)) {
                throw new IllegalArgumentException("threads, batch and tokens must be >= 1, context, warmup and settle >= 0");
            }
            BenchModel.requireBackend(backend, cpuWeights, kvCache);
        }
    }

    /**
     * @param cpuWeights           {@code stored}, {@code copied}, {@code q8} or {@code q4}
     * @param loadSeconds          putting the weights on the backend (copying or quantizing the linears, when asked)
     * @param hugePageBytes        the process's memory on 2 MB pages once loaded (-1: unknown; see {@link HugePages})
     * @param kvCache              the KV cache's dtype ({@code bf16}, {@code f32} or {@code fp8})
     * @param tokens               timed steps (each gives {@code batch} tokens)
     * @param context              positions filled before the warm-up steps
     * @param contextStart         positions already cached when timing began
     * @param warmupSteps          untimed steps run (at least {@code warmup}; more while the JIT was compiling)
     * @param jitSettled           whether the JIT was seen idle when timing began (false: the warm-up stopped at its time
     *                             limit, or there was no settling)
     * @param jitMillisTimed       milliseconds the JIT spent compiling during the timed steps (-1: unknown)
     * @param tokensPerSecond      all sequences together
     * @param weightBytesPerStep   as the backend holds them: quantized linears count their blocks and scales
     * @param kvBytesPerStep       cached keys and values a timed step reads, on average (every sequence's context)
     * @param achievedGbPerSecond  (weight + KV bytes) per step x steps per second, 10^9 bytes/s
     * @param rooflineGbPerSecond  the measured read bandwidth (the CPU's cached roofline at this thread count, the
     *                             device's read bandwidth on cuda), or null
     * @param rooflineFraction     achieved / roofline, or null without a cached roofline
     */
    public record Result(String model, String shape, String dtype, String backend, String cpuWeights, String kvCache,
                         double loadSeconds, long hugePageBytes, int threads, int batch, int tokens, int context,
                         int contextStart, int warmupSteps, boolean jitSettled, long jitMillisTimed,
                         double seconds, double tokensPerSecond, double stepMillisP50,
                         long weightBytesPerStep, double weightBytesPerToken, long kvBytesPerStep, double achievedGbPerSecond,
                         Double rooflineGbPerSecond, Double rooflineFraction, Machine machine) {}

    private DecodeBench() {}

    /** On the CPU backend, against the cached roofline when there is one. */
    public static Result run(BenchModel model, Settings settings, Optional<Roofline> roofline) {
        return run(model, settings, roofline.map(r -> r.at(settings.threads()).readGbPerSecond()).orElse(null));
    }

    /** @param ceiling the read bandwidth (GB/s) to compare with, or null */
    public static Result run(BenchModel model, Settings settings, Double ceiling) {
        int context = settings.context(), positions = context + settings.warmup() + settings.tokens();
        int blocks = SequenceBatch.blocksNeeded(settings.batch(), positions, BLOCK_SIZE);
        var options = new ModelFactory.Options(settings.threads(), 1, blocks, BLOCK_SIZE, true, settings.cpuWeights());
        SequenceBatch batch = new SequenceBatch(settings.batch(), positions, BLOCK_SIZE, model.config().vocabSize(),
                settings.seed());
        long[] stepNanos = new long[settings.tokens()];
        long loadStart = System.nanoTime(), jitBefore, jitAfter;
        double loadSeconds;
        long hugePageBytes;
        JitSettle.Result warmup = new JitSettle.Result(0, 0, false);
        try (LanguageModel lm = model.load(settings.backend(), options, settings.kvCache())) {
            loadSeconds = (System.nanoTime() - loadStart) * 1e-9;
            hugePageBytes = HugePages.processHugeBytes();
            for (int from = 0; from < context; from += FILL_CHUNK) lm.forward(batch.chunk(from, Math.min(FILL_CHUNK, context - from)));
            // greedy draws on the backend, as the engine runs plain requests: only token ids reach the host
            List<DrawRequest> greedy = Collections.nCopies(settings.batch(), DrawRequest.greedy());
            if (settings.warmup() > 0) {
                int[] position = {0};
                // with settle 0 the limit has passed once the warm-up steps have run: exactly those, not known to be idle
                warmup = JitSettle.run(() -> lm.forwardAndSample(batch.decode(context + position[0]++ % settings.warmup()), greedy),
                        settings.warmup(), (long) (settings.settleSeconds() * 1e9));
            }
            jitBefore = JitSettle.compileMillis();
            for (int i = 0; i < settings.tokens(); i++) {
                var step = batch.decode(context + settings.warmup() + i);
                long start = System.nanoTime();
                lm.forwardAndSample(step, greedy);
                stepNanos[i] = System.nanoTime() - start;
            }
            jitAfter = JitSettle.compileMillis();
        }
        double seconds = Arrays.stream(stepNanos).sum() * 1e-9;
        ModelCost cost = ModelCost.of(model.weights(), settings.cpuWeights());
        long bytesPerStep = cost.decodeBytesPerStep(settings.batch());
        // a step at position p reads p + 1 positions of each sequence; the timed steps' mean
        double meanPositions = context + settings.warmup() + (settings.tokens() + 1) / 2.0;
        long kvBytesPerStep = Math.round(settings.batch() * meanPositions * model.config().kvBytesPerPosition(settings.kvCache().bytes));
        double achieved = (double) (bytesPerStep + kvBytesPerStep) * settings.tokens() / seconds / 1e9;
        Arrays.sort(stepNanos);
        return new Result(model.name(), ModelShape.describe(model.config()), model.dtype(), settings.backend(),
                settings.cpuWeights().cliName(), settings.kvCache().cliName(), loadSeconds, hugePageBytes, settings.threads(),
                settings.batch(), settings.tokens(), context, context + settings.warmup(),
                warmup.steps(), warmup.quiet(), jitBefore < 0 || jitAfter < 0 ? -1 : jitAfter - jitBefore, seconds,
                settings.batch() * settings.tokens() / seconds, stepNanos[stepNanos.length / 2] / 1e6,
                bytesPerStep, (double) bytesPerStep / settings.batch(), kvBytesPerStep, achieved,
                ceiling, ceiling == null ? null : achieved / ceiling, Machine.now());
    }
}
