package io.tramontane.backend.cuda;

import io.tramontane.backend.Activation;
import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.AttentionBatch.Segment;
import io.tramontane.backend.KvCache;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.cuda.BackendChecks.Pair;
import io.tramontane.weights.Floats;
import io.tramontane.weights.KvCacheScales;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * CudaBackend.attention against CpuBackend.attention (an FP32 cache: the semantics every backend shares) over
 * multi-step scenarios, and the timing lines of the tensor-core kernels. Outputs are NaN-poisoned with a poisoned
 * guard behind them. Each element's error is taken relative to the larger of its reference and the RMS of its query
 * row's head: causal outputs shrink down a prompt (an average of more values), so each element is judged on the scale
 * of its own row rather than of the whole output. Bounds, derived in docs/gpu-check.md: an FP32 cache must agree to
 * {@link BackendChecks#SUM_BOUND} (max and RMS); a BF16 cache to {@link #BF16_BOUND} (max) and {@link #BF16_RMS_BOUND}
 * (RMS over every element). An FP8 e4m3 cache is judged twice ({@link #fp8Result}): the kernel against the CPU on the
 * values the cache holds, to the BF16 bounds, and what the format costs against the FP32 cache, to
 * {@link #FP8_RMS_BOUND}.
 */
public final class AttentionChecks {
    /** Max error with a BF16 cache: about ten standard deviations of BF16 rounding of K, V, Q and P. */
    static final double BF16_BOUND = 2.5e-2;
    /** RMS error with a BF16 cache: twice the 2.4e-3 expected of BF16 K, V, Q and P rounding. */
    static final double BF16_RMS_BOUND = 5e-3;
    /**
     * Max error of an FP8 cache against an FP32 one, for the timing lines (head_dim 128): about eleven standard
     * deviations of e4m3 rounding of K and V (2.7e-2), ten as for BF16 (emulated and measured on an H200: 0.12-0.14 at
     * 64/128). A tail statistic: over six-element heads it reached 0.30 on an H200, so {@link #fp8Result} reports it
     * and judges the kernel on the stored values instead.
     */
    static final double FP8_BOUND = 0.3;
    /** RMS error with an FP8 cache: twice the 2.7e-2 expected of e4m3 K and V rounding. */
    static final double FP8_RMS_BOUND = 5e-2;
    /**
     * The FP8 checks' scales for the layer they use (1; layer 0 keeps scales of 1): calibrated-like, inputs in [-1, 1]
     * are stored up to +-300 and +-200 of e4m3's +-448, and neither divides exactly.
     */
    static final float FP8_KEY_SCALE = 1 / 300f, FP8_VALUE_SCALE = 1 / 200f;

    /** Paged attention: {@code heads} query heads over {@code kvHeads} (GQA), a cache of {@code dtype}. */
    public record AttentionShape(int heads, int kvHeads, int headDim, int blockSize, KvCacheDtype dtype) {
        @Override
        public String toString() {
            return heads + "/" + kvHeads + "x" + headDim + " b" + blockSize + " " + dtype.suffix;
        }
    }

    /**
     * GQA groups 1, 4, 8 and 24 (two slices of 16 heads), head_dim 64 and 128 on the tensor-core kernels, block sizes
     * 1, 5 and 16; the generic kernel on BF16 (head_dim 6, 256) and FP32 caches; FP8 caches on both.
     */
    public static final List<AttentionShape> SHAPES = List.of(
            new AttentionShape(8, 2, 64, 16, KvCacheDtype.BF16), new AttentionShape(8, 8, 128, 1, KvCacheDtype.BF16),
            new AttentionShape(16, 2, 128, 16, KvCacheDtype.BF16), new AttentionShape(32, 8, 128, 16, KvCacheDtype.BF16),
            new AttentionShape(24, 1, 64, 5, KvCacheDtype.BF16), new AttentionShape(6, 2, 6, 3, KvCacheDtype.BF16),
            new AttentionShape(2, 1, 256, 16, KvCacheDtype.BF16), new AttentionShape(8, 2, 64, 16, KvCacheDtype.F32),
            new AttentionShape(4, 4, 128, 5, KvCacheDtype.F32), new AttentionShape(8, 2, 64, 16, KvCacheDtype.FP8_E4M3),
            new AttentionShape(8, 8, 128, 1, KvCacheDtype.FP8_E4M3), new AttentionShape(32, 8, 128, 16, KvCacheDtype.FP8_E4M3),
            new AttentionShape(24, 1, 64, 5, KvCacheDtype.FP8_E4M3), new AttentionShape(6, 2, 6, 3, KvCacheDtype.FP8_E4M3));

    /** Contexts of about 4k tokens on the tensor-core kernels (split decode), BF16 and FP8. */
    public static final List<AttentionShape> LONG_SHAPES = List.of(new AttentionShape(8, 1, 128, 16, KvCacheDtype.BF16),
            new AttentionShape(8, 2, 64, 16, KvCacheDtype.BF16), new AttentionShape(8, 1, 128, 16, KvCacheDtype.FP8_E4M3),
            new AttentionShape(8, 2, 64, 16, KvCacheDtype.FP8_E4M3));

    /** The timing lines' shape: Mistral 7B / Small's attention (32 query heads over 8, head_dim 128). */
    static final AttentionShape TIMING_SHAPE = new AttentionShape(32, 8, 128, 16, KvCacheDtype.BF16);
    /**
     * Two 4096-token prompts; 32 contexts of 2048 for decode: 268 MB of BF16 K/V per step, the FP32 reference's fill
     * (the generic kernel's quadratic prefill) half of what 16 contexts of 4096 would cost.
     */
    static final int TIMING_PREFILL_SEQUENCES = 2, TIMING_PREFILL_TOKENS = 4096, TIMING_DECODE_SEQUENCES = 32,
            TIMING_DECODE_CONTEXT = 2048;

    /** Attention steps over sequences whose block tables come from one shuffled pool of {@code blocks} blocks. */
    record Scenario(String name, int blocks, List<AttentionBatch> steps) {

        /**
         * Sequences A, B, C, D: prefills of 37 and 150 tokens; then A decodes, B prefills a chunk of 77 tokens from
         * position 150 (not a multiple of any tile), C prefills 15 (one row short of a prefill tile: 15 decode rows,
         * contexts of 1 to 15 keys) and D 16 (the shortest prefill tile); then all four decode.
         */
        static Scenario mixed(int blockSize, SplittableRandom random) {
            Tables t = Tables.shuffled(new int[] {39, 228, 16, 17}, blockSize, random);
            int[] a = t.tables()[0], b = t.tables()[1], c = t.tables()[2], d = t.tables()[3];
            return new Scenario("mixed", t.blocks(), List.of(
                    batch(new Segment(0, 37, 0, a), new Segment(37, 150, 0, b)),
                    batch(new Segment(0, 1, 37, a), new Segment(1, 77, 150, b), new Segment(78, 15, 0, c),
                            new Segment(93, 16, 0, d)),
                    batch(new Segment(0, 1, 38, a), new Segment(1, 1, 227, b), new Segment(2, 1, 15, c),
                            new Segment(3, 1, 16, d))));
        }

        /** One sequence prefilled in chunks [0, 2048) and [2048, 4011), then a decode at 4011 (a split context). */
        static Scenario longContext(int blockSize, SplittableRandom random) {
            Tables tables = Tables.shuffled(new int[] {4012}, blockSize, random);
            int[] t = tables.tables()[0];
            return new Scenario("4k", tables.blocks(), List.of(
                    batch(new Segment(0, 2048, 0, t)), batch(new Segment(0, 1963, 2048, t)), batch(new Segment(0, 1, 4011, t))));
        }

        /**
         * {@code sequences} contexts of {@code length} tokens filled in chunks of {@code chunk} rows each (all sequences in
         * every step), then, when {@code decode}, one decode row each.
         */
        static Scenario filled(int sequences, int length, int chunk, boolean decode, int blockSize, SplittableRandom random) {
            int[] lengths = new int[sequences];
            Arrays.fill(lengths, length + 1);
            Tables t = Tables.shuffled(lengths, blockSize, random);
            List<AttentionBatch> steps = new ArrayList<>();
            for (int start = 0; start < length; start += chunk) {
                int rows = Math.min(chunk, length - start), from = start;
                steps.add(new AttentionBatch(IntStream.range(0, sequences)
                        .mapToObj(s -> new Segment(s * rows, rows, from, t.tables()[s])).toList()));
            }
            if (decode) {
                steps.add(new AttentionBatch(IntStream.range(0, sequences)
                        .mapToObj(s -> new Segment(s, 1, length, t.tables()[s])).toList()));
            }
            return new Scenario(sequences + "x" + length, t.blocks(), steps);
        }

        private static AttentionBatch batch(Segment... segments) {
            return new AttentionBatch(List.of(segments));
        }
    }

    /** Block tables for sequences of the given lengths, drawn without repetition from a shuffled pool (with 3 spare). */
    record Tables(int blocks, int[][] tables) {
        static Tables shuffled(int[] lengths, int blockSize, SplittableRandom random) {
            int[] counts = Arrays.stream(lengths).map(n -> (n + blockSize - 1) / blockSize).toArray();
            int blocks = Arrays.stream(counts).sum() + 3;
            int[] pool = IntStream.range(0, blocks).toArray();
            for (int i = blocks - 1; i > 0; i--) {
                int j = random.nextInt(i + 1), swap = pool[i];
                pool[i] = pool[j];
                pool[j] = swap;
            }
            int[][] tables = new int[lengths.length][];
            for (int s = 0, at = 0; s < lengths.length; at += counts[s], s++) tables[s] = Arrays.copyOfRange(pool, at, at + counts[s]);
            return new Tables(blocks, tables);
        }
    }

    /**
     * The errors of attention outputs against their references: per element relative to the larger of the reference
     * and the RMS of its query row's head ({@code headDim} consecutive elements), max and RMS over everything added.
     */
    static final class Errors {
        private double max, sumSquares;
        private long count;
        private String worst = "";

        /** Adds one output; returns why it fails outright (an element left NaN), else null. */
        String add(float[] actual, float[] reference, int headDim) {
            for (int head = 0; head < reference.length; head += headDim) {
                double squares = 0;
                for (int i = head; i < head + headDim; i++) squares += (double) reference[i] * reference[i];
                double floor = Math.max(Math.sqrt(squares / headDim), Float.MIN_NORMAL);
                for (int i = head; i < head + headDim; i++) {
                    if (Float.isNaN(actual[i])) return "element " + i + " is NaN: unwritten (still poisoned) or invalid";
                    double error = Math.abs(actual[i] - reference[i]) / Math.max(Math.abs(reference[i]), floor);
                    sumSquares += error * error;
                    count++;
                    if (error > max) {
                        max = error;
                        worst = "element " + i + ": " + actual[i] + " vs " + reference[i];
                    }
                }
            }
            return null;
        }

        double max() {
            return max;
        }

        double rms() {
            return count == 0 ? 0 : Math.sqrt(sumSquares / count);
        }

        /** The verdict for a cache of {@code dtype}, with {@code note} (timings) appended to the detail. */
        CheckResult result(String check, String shape, long seed, KvCacheDtype dtype, double micros, String note) {
            double bound = bound(dtype), rmsBound = rmsBound(dtype);
            boolean passed = passes(dtype);
            String detail = String.format(Locale.ROOT, "rms %.1e (bound %.0e)", rms(), rmsBound) + (passed ? "" : "; worst " + worst)
                    + (note.isEmpty() ? "" : "; " + note);
            return new CheckResult(check, shape, seed, passed, max, bound, micros, detail);
        }

        boolean passes(KvCacheDtype dtype) {
            return max <= bound(dtype) && rms() <= rmsBound(dtype);
        }
    }

    static double bound(KvCacheDtype dtype) {
        return switch (dtype) {
            case BF16 -> BF16_BOUND;
            case FP8_E4M3 -> FP8_BOUND;
            case F32 -> BackendChecks.SUM_BOUND;
        };
    }

    static double rmsBound(KvCacheDtype dtype) {
        return switch (dtype) {
            case BF16 -> BF16_RMS_BOUND;
            case FP8_E4M3 -> FP8_RMS_BOUND;
            case F32 -> BackendChecks.SUM_BOUND;
        };
    }

    /** What an FP8 cache holds of {@code values} stored at {@code scale}, as FP32: e4m3(x / scale) x scale. */
    static float[] storedE4m3(float[] values, float scale) {
        float[] stored = new float[values.length];
        for (int i = 0; i < values.length; i++) stored[i] = Floats.e4m3ToFloat(Floats.floatToE4m3(values[i] / scale)) * scale;
        return stored;
    }

    /**
     * The verdict on an FP8 cache: {@code kernel} (the output against the CPU on {@link #storedE4m3} K and V) to the
     * BF16 bounds, since the kernels decode e4m3 exactly and round Q and P as for a BF16 cache; and {@code cost} (against
     * the FP32 cache: what e4m3 costs) to {@link #FP8_RMS_BOUND}, its max reported: a tail statistic, not a kernel's.
     */
    static CheckResult fp8Result(String check, String shape, long seed, Errors kernel, Errors cost, double micros) {
        String costNote = String.format(Locale.ROOT, "vs FP32 cache max %.1e, rms %.1e (bound %.0e)", cost.max(), cost.rms(),
                FP8_RMS_BOUND);
        CheckResult judged = kernel.result(check, shape, seed, KvCacheDtype.BF16, micros, costNote);
        boolean passed = judged.passed() && cost.rms() <= FP8_RMS_BOUND;
        return new CheckResult(check, shape, seed, passed, judged.maxRelativeError(), judged.bound(), micros, judged.detail());
    }

    /** The scales of a checked cache of {@code layers} layers: {@link #FP8_KEY_SCALE} and its kin on layer 1. */
    static KvCacheScales checkScales(int layers) {
        float[] keys = new float[layers], values = new float[layers];
        Arrays.fill(keys, 1f);
        Arrays.fill(values, 1f);
        if (layers > 1) {
            keys[1] = FP8_KEY_SCALE;
            values[1] = FP8_VALUE_SCALE;
        }
        return new KvCacheScales(keys, values);
    }

    /**
     * What the timing lines are measured against, both from the device: the read bandwidth of a streaming kernel
     * (bytes/s) and the dense BF16 tensor peak (FLOP/s, SMs x clock x per-SM rate); NaN when unknown.
     */
    public record Roofline(double readBytesPerSecond, double bf16FlopsPerSecond) {}

    private final BackendChecks ops;

    AttentionChecks(BackendChecks ops) {
        this.ops = ops;
    }

    /** Every attention check once, each on its own seed, then the timing lines. */
    List<CheckResult> all(Roofline roofline) {
        List<CheckResult> results = new ArrayList<>();
        for (AttentionShape shape : SHAPES) results.add(mixed(shape, BackendChecks.seed()));
        for (AttentionShape shape : LONG_SHAPES) results.add(longContext(shape, BackendChecks.seed()));
        results.add(prefillTiming(roofline, BackendChecks.seed()));
        results.add(decodeTiming(roofline, BackendChecks.seed()));
        return results;
    }

    /** {@link Scenario#mixed} against the CPU; the time is the last (decode) step's. */
    public CheckResult mixed(AttentionShape s, long seed) {
        return againstCpu("attention", s, seed, random -> Scenario.mixed(s.blockSize(), random));
    }

    /** {@link Scenario#longContext} against the CPU; the time is the last (split decode) step's. */
    public CheckResult longContext(AttentionShape s, long seed) {
        return againstCpu("attention 4k", s, seed, random -> Scenario.longContext(s.blockSize(), random));
    }

    private CheckResult againstCpu(String check, AttentionShape s, long seed,
                                   Function<SplittableRandom, Scenario> scenarioOf) {
        SplittableRandom random = new SplittableRandom(seed);
        Scenario scenario = scenarioOf.apply(random);
        String shape = s + " " + scenario.name();
        return KernelChecks.attempt(check, shape, seed, () -> {
            CudaBackend cuda = ops.cuda;
            boolean fp8 = s.dtype() == KvCacheDtype.FP8_E4M3;
            try (KvCache gpuCache = cuda.allocateKvCache(2, scenario.blocks(), s.blockSize(), s.kvHeads(), s.headDim(), s.dtype(),
                    checkScales(2));
                 KvCache cpuCache = ops.cpu.allocateKvCache(2, scenario.blocks(), s.blockSize(), s.kvHeads(), s.headDim());
                 KvCache storedCache = fp8 ? ops.cpu.allocateKvCache(2, scenario.blocks(), s.blockSize(), s.kvHeads(), s.headDim()) : null) {
                float scale = (float) (1 / Math.sqrt(s.headDim()));
                Errors errors = new Errors(), cost = new Errors();
                double micros = Double.NaN;
                for (AttentionBatch step : scenario.steps()) {
                    int n = step.tokens(), qCols = s.heads() * s.headDim(), kvCols = s.kvHeads() * s.headDim();
                    float[] kValues = RandomTensors.floats(random, n * kvCols, 1), vValues = RandomTensors.floats(random, n * kvCols, 1);
                    Pair q = ops.input(RandomTensors.floats(random, n * qCols, 1), n, qCols);
                    Pair k = ops.input(kValues, n, kvCols), v = ops.input(vValues, n, kvCols);
                    Pair out = ops.output(n, qCols);
                    Runnable op = () -> cuda.attention(q.gpu(), k.gpu(), v.gpu(), gpuCache, 1, step, scale, out.gpu());
                    op.run();
                    ops.cpu.attention(q.cpu(), k.cpu(), v.cpu(), cpuCache, 1, step, scale, out.cpu());
                    float[] actual = BackendChecks.read(cuda, out.gpu()), exact = BackendChecks.read(ops.cpu, out.cpu());
                    String failure;
                    if (fp8) {
                        Activation stored = ops.cpu.allocate(n, qCols);
                        ops.cpu.attention(q.cpu(), ops.cpuInput(storedE4m3(kValues, FP8_KEY_SCALE), n, kvCols),
                                ops.cpuInput(storedE4m3(vValues, FP8_VALUE_SCALE), n, kvCols), storedCache, 1, step, scale, stored);
                        failure = errors.add(actual, BackendChecks.read(ops.cpu, stored), s.headDim());
                        cost.add(actual, exact, s.headDim());
                    } else {
                        failure = errors.add(actual, exact, s.headDim());
                    }
                    if (failure == null && !cuda.guardIntact(out.gpu())) failure = "wrote past the output";
                    if (failure != null) {
                        return new CheckResult(check, shape, seed, false, errors.max(), bound(s.dtype()), Double.NaN, failure);
                    }
                    micros = cuda.timeMicros(op);  // again: storing the same k/v rows changes nothing
                }
                return fp8 ? fp8Result(check, shape, seed, errors, cost, micros) : errors.result(check, shape, seed, s.dtype(), micros, "");
            }
        });
    }

    /**
     * {@value #TIMING_PREFILL_SEQUENCES} prompts of {@value #TIMING_PREFILL_TOKENS} tokens in one step on a BF16 and an FP8
     * cache (the tensor-core prefill), against the same step on an FP32 cache (the generic kernel, checked against the
     * CPU by {@link #mixed}); TFLOP/s of each step (store + attention) against the dense BF16 peak. FLOPs: 4 x head_dim
     * per (query head, visible key): QK^T and PV.
     */
    public CheckResult prefillTiming(Roofline roofline, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Scenario scenario = Scenario.filled(TIMING_PREFILL_SEQUENCES, TIMING_PREFILL_TOKENS, TIMING_PREFILL_TOKENS, false,
                TIMING_SHAPE.blockSize(), random);
        return timed("attention prefill (timing)", scenario, random, seed, (step, micros, dtype) -> {
            double flops = 4.0 * TIMING_SHAPE.headDim() * TIMING_SHAPE.heads() * visibleKeys(step);
            double rate = flops / (micros * 1e-6);
            return String.format(Locale.ROOT, "%.1f TFLOP/s = %s of the dense BF16 peak %.0f TFLOP/s", rate / 1e12,
                    percent(rate / roofline.bf16FlopsPerSecond()), roofline.bf16FlopsPerSecond() / 1e12);
        });
    }

    /**
     * {@value #TIMING_DECODE_SEQUENCES} contexts of {@value #TIMING_DECODE_CONTEXT} tokens (filled by chunked prefills), then
     * one decode step on a BF16 and an FP8 cache (split flash-decoding + reduce) against the same on an FP32 cache; GB/s
     * of each step (the K and V rows it reads: 2 or 1 bytes per element) against the measured read bandwidth.
     */
    public CheckResult decodeTiming(Roofline roofline, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Scenario scenario = Scenario.filled(TIMING_DECODE_SEQUENCES, TIMING_DECODE_CONTEXT, 512, true, TIMING_SHAPE.blockSize(),
                random);
        return timed("attention decode (timing)", scenario, random, seed, (step, micros, dtype) -> {
            double bytes = 2.0 * visibleKeys(step) * TIMING_SHAPE.kvHeads() * TIMING_SHAPE.headDim() * dtype.bytes;
            double rate = bytes / (micros * 1e-6);
            return String.format(Locale.ROOT, "%.0f GB/s of K/V = %s of the measured %.0f GB/s", rate / 1e9,
                    percent(rate / roofline.readBytesPerSecond()), roofline.readBytesPerSecond() / 1e9);
        });
    }

    /** The keys a step's rows see, summed over its rows (position + 1 each): per query head, or per kv head. */
    static long visibleKeys(AttentionBatch step) {
        long keys = 0;
        for (Segment s : step.segments()) keys += (long) s.length() * s.start() + (long) s.length() * (s.length() + 1) / 2;
        return keys;
    }

    private static String percent(double fraction) {
        return Double.isFinite(fraction) ? String.format(Locale.ROOT, "%.0f%%", 100 * fraction) : "n/a";
    }

    private interface Rate {
        String of(AttentionBatch step, double micros, KvCacheDtype dtype);
    }

    /** The cache dtypes a timing line measures, each against the FP32 cache. */
    private static final List<KvCacheDtype> TIMED = List.of(KvCacheDtype.BF16, KvCacheDtype.FP8_E4M3);

    /**
     * Every step on a BF16, an FP8 and an FP32 cache of the GPU; the last step compared with FP32 and timed on BF16 and
     * FP8. The row's error and bound are BF16's; FP8's error and rate follow in the detail, and both must pass.
     */
    private CheckResult timed(String check, Scenario scenario, SplittableRandom random, long seed, Rate rate) {
        AttentionShape s = TIMING_SHAPE;
        String shape = s + " " + scenario.name();
        return KernelChecks.attempt(check, shape, seed, () -> {
            CudaBackend cuda = ops.cuda;
            List<KvCache> caches = new ArrayList<>();
            try (KvCache f32 = cuda.allocateKvCache(1, scenario.blocks(), s.blockSize(), s.kvHeads(), s.headDim(), KvCacheDtype.F32)) {
                for (KvCacheDtype dtype : TIMED) {
                    caches.add(cuda.allocateKvCache(1, scenario.blocks(), s.blockSize(), s.kvHeads(), s.headDim(), dtype));
                }
                float scale = (float) (1 / Math.sqrt(s.headDim()));
                AttentionBatch last = scenario.steps().getLast();
                for (AttentionBatch step : scenario.steps()) {
                    int n = step.tokens(), qCols = s.heads() * s.headDim(), kvCols = s.kvHeads() * s.headDim();
                    Activation q = upload(RandomTensors.floats(random, n * qCols, 1), n, qCols);
                    Activation k = upload(RandomTensors.floats(random, n * kvCols, 1), n, kvCols);
                    Activation v = upload(RandomTensors.floats(random, n * kvCols, 1), n, kvCols);
                    Activation reference = cuda.allocate(n, qCols);
                    cuda.attention(q, k, v, f32, 0, step, scale, reference);
                    List<Activation> outputs = new ArrayList<>();
                    for (KvCache cache : caches) {
                        Activation out = cuda.allocate(n, qCols);
                        cuda.poison(out);
                        cuda.attention(q, k, v, cache, 0, step, scale, out);
                        outputs.add(out);
                    }
                    if (step != last) continue;
                    float[] expected = BackendChecks.read(cuda, reference);
                    Errors bf16Errors = null;
                    double bf16Micros = Double.NaN;
                    List<String> notes = new ArrayList<>();
                    boolean passed = true;
                    for (int i = 0; i < TIMED.size(); i++) {
                        KvCacheDtype dtype = TIMED.get(i);
                        Errors e = new Errors();
                        Activation out = outputs.get(i);
                        String failure = e.add(BackendChecks.read(cuda, out), expected, s.headDim());
                        if (failure == null && !cuda.guardIntact(out)) failure = "wrote past the output";
                        if (failure != null) {
                            return new CheckResult(check, shape, seed, false, e.max(), bound(dtype), Double.NaN,
                                    dtype.suffix + ": " + failure);
                        }
                        KvCache cache = caches.get(i);
                        double micros = cuda.timeMicros(() -> cuda.attention(q, k, v, cache, 0, step, scale, out));
                        passed &= e.passes(dtype);
                        notes.add(String.format(Locale.ROOT, "%s %.1f us: %s (max %.1e, rms %.1e)", dtype.suffix, micros,
                                rate.of(step, micros, dtype), e.max(), e.rms()));
                        if (dtype == KvCacheDtype.BF16) {
                            bf16Errors = e;
                            bf16Micros = micros;
                        }
                    }
                    CheckResult bf16 = bf16Errors.result(check, shape, seed, KvCacheDtype.BF16, bf16Micros, String.join("; ", notes));
                    return new CheckResult(check, shape, seed, passed, bf16.maxRelativeError(), bf16.bound(), bf16Micros,
                            bf16.detail() + (passed ? "" : "; fp8 bounds " + FP8_BOUND + " max, " + FP8_RMS_BOUND + " rms"));
                }
                throw new IllegalStateException("a scenario without steps");
            } finally {
                for (KvCache cache : caches) cache.close();
            }
        });
    }

    private Activation upload(float[] values, int rows, int cols) {
        Activation a = ops.cuda.allocate(rows, cols);
        ops.cuda.write(a, values);
        return a;
    }
}
