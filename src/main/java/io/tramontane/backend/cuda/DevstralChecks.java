package io.tramontane.backend.cuda;

import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.bench.BenchModel;
import io.tramontane.bench.DecodeBench;
import io.tramontane.bench.ModelShape;
import io.tramontane.bench.PrefillBench;
import io.tramontane.cuda.DeviceInfo;
import io.tramontane.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The end-to-end targets on a GPU, on a model shaped like Devstral Small 2 (24B) with random FP8 weights of
 * the real size (about 25 GB: e4m3 linears, BF16 embeddings and head), through ModelFactory.cuda exactly as a served
 * model runs: batch-1 decode against the device's measured read bandwidth (the 75%-of-roofline target), and a
 * 2 x 2048-token prefill against the FP8 dense tensor-core peak. The decode is run again with each alternative gemv
 * layout. Measurements (they fail only if the run does).
 */
public final class DevstralChecks {
    public static final String DEVSTRAL_SMALL = "dim=5120,layers=40,heads=32,kv_heads=8,head_dim=128,hidden=32768,vocab=131072";
    static final double TARGET_FRACTION = 0.75;
    /** Besides the weights: 4096 tokens' activations (gate and up 0.5 GB each), KV cache, the context and kernels. */
    private static final long PREFILL_HEADROOM_BYTES = 12L << 30;

    private DevstralChecks() {}

    static final String DECODE = "decode devstral-small fp8", DECODE_SHAPE = "batch 1, 24B";
    /**
     * Production's ring on the 5120-wide layers (q/k/v, gate/up), the 2-stage ring on o (4096 wide) and down (32768):
     * each the winner of its shape in the H200's gemv timing of 2026-11-26 (docs/gpu-log.md), timed end to end as one.
     */
    static final String MIXED_LAYOUTS = "r4c1s4,4096=r2c2s2,32768=r2c2s2";
    static final String PREFILL = "prefill devstral-small fp8", PREFILL_SHAPE = "2 x 2048 tokens, 24B";

    /**
     * Both checks on one generated model (uploaded to a fresh device model for each).
     *
     * @param readGbPerSecond the device's read bandwidth as measured by {@link KernelChecks#readBandwidth()}
     * @param fp8PeakFlops    the device's dense FP8 tensor-core FLOP/s
     */
    public static List<CheckResult> all(DeviceInfo device, double readGbPerSecond, double fp8PeakFlops, long seed) {
        var config = ModelShape.parse(DEVSTRAL_SMALL);
        long needed = weightBytes(config) + PREFILL_HEADROOM_BYTES;
        if (device.totalMemoryBytes() < needed) {
            String reason = String.format(Locale.ROOT, "%.1f GiB of device memory, %.1f GiB needed",
                    device.totalMemoryBytes() / (double) (1L << 30), needed / (double) (1L << 30));
            return List.of(CheckResult.skipped(DECODE, DECODE_SHAPE, reason), CheckResult.skipped(PREFILL, PREFILL_SHAPE, reason));
        }
        try (BenchModel model = BenchModel.synthetic(config, "fp8", seed)) {
            return List.of(decode(model, readGbPerSecond, seed), prefill(model, fp8PeakFlops, seed));
        } catch (RuntimeException e) {  // generating 25 GB of weights on the host failed
            String detail = "generating the model failed: " + e;
            return List.of(CheckResult.failed(DECODE, DECODE_SHAPE, seed, detail), CheckResult.failed(PREFILL, PREFILL_SHAPE, seed, detail));
        }
    }

    /**
     * Batch-1 decode with the configured gemv layouts, then once with each of {@link GemvLayout#ALTERNATIVES} and once
     * with {@link #MIXED_LAYOUTS} (their tok/s and ratio appended), so one GPU run measures every candidate end to end.
     */
    private static CheckResult decode(BenchModel model, double readGbPerSecond, long seed) {
        return KernelChecks.attempt(DECODE, DECODE_SHAPE, seed, () -> {
            GemvLayoutChoice configured = GemvLayoutChoice.configured();
            DecodeBench.Result r = decodeRun(model, readGbPerSecond, seed);
            double fraction = r.rooflineFraction();
            StringBuilder detail = new StringBuilder(String.format(Locale.ROOT, "%.1f tok/s, %.2f GB/token, %.0f GB/s = %.0f%% of "
                    + "read bandwidth (target %.0f%%%s); upload %.1f s; gemv %s", r.tokensPerSecond(), r.weightBytesPerToken() / 1e9,
                    r.achievedGbPerSecond(), 100 * fraction, 100 * TARGET_FRACTION, fraction >= TARGET_FRACTION ? ", met" : ", NOT met",
                    r.loadSeconds(), configured.spec()));
            List<String> others = new ArrayList<>(GemvLayout.ALTERNATIVES.stream().map(GemvLayout::name).toList());
            others.add(MIXED_LAYOUTS);
            for (String spec : others) {
                if (spec.equals(configured.spec())) continue;
                String previous = System.setProperty(GemvLayoutChoice.PROPERTY, spec);
                try {
                    double other = decodeRun(model, readGbPerSecond, seed).tokensPerSecond();
                    detail.append(String.format(Locale.ROOT, "; %s %.1f tok/s (%.2fx)", spec, other, other / r.tokensPerSecond()));
                } finally {
                    if (previous == null) System.clearProperty(GemvLayoutChoice.PROPERTY);
                    else System.setProperty(GemvLayoutChoice.PROPERTY, previous);
                }
            }
            return new CheckResult(DECODE, DECODE_SHAPE, seed, true, Double.NaN, Double.NaN, r.stepMillisP50() * 1000, detail.toString());
        });
    }

    private static DecodeBench.Result decodeRun(BenchModel model, double readGbPerSecond, long seed) {
        // warm-up past the CUDA graph trial, so the timed steps run in the mode it settled on; no JIT settling: the host
        // launches graphs on a 16-core machine, and the check runs this decode once per gemv layout within the device budget
        var settings = new DecodeBench.Settings(Runtime.getRuntime().availableProcessors(), 1, 0, 32, 2 * GraphChoice.TRIAL + 2,
                0, seed, CpuWeights.STORED, KvCacheDtype.BF16, "cuda");
        return DecodeBench.run(model, settings, readGbPerSecond);
    }

    /** 2 prompts of 2048 tokens in one step: tok/s and TFLOP/s against {@code fp8PeakFlops}. */
    private static CheckResult prefill(BenchModel model, double fp8PeakFlops, long seed) {
        return KernelChecks.attempt(PREFILL, PREFILL_SHAPE, seed, () -> {
            var settings = new PrefillBench.Settings(Runtime.getRuntime().availableProcessors(), 2, 2048, 2, seed,
                    CpuWeights.STORED, KvCacheDtype.BF16, "cuda");
            PrefillBench.Result r = PrefillBench.run(model, settings, fp8PeakFlops / 1e9);
            String detail = String.format(Locale.ROOT, "%.0f tok/s, %.0f TFLOP/s = %.0f%% of the FP8 dense peak",
                    r.tokensPerSecond(), r.gflopsPerSecond() / 1e3, 100 * r.rooflineFraction());
            return new CheckResult(PREFILL, PREFILL_SHAPE, seed, true, Double.NaN, Double.NaN, r.seconds() * 1e6, detail);
        });
    }

    /** The model's bytes on the device: e4m3 linears, BF16 embeddings and output head. */
    private static long weightBytes(ModelConfig config) {
        return config.nLayers() * (2L * config.dim() * (config.queryWidth() + config.kvWidth())
                + 3L * config.dim() * config.hiddenDim()) + 4L * config.vocabSize() * config.dim();
    }
}
