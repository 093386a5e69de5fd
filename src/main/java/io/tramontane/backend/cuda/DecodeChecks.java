package io.tramontane.backend.cuda;

import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.bench.BenchModel;
import io.tramontane.bench.DecodeBench;
import io.tramontane.bench.ModelShape;
import io.tramontane.cuda.DeviceInfo;
import java.util.Locale;

/**
 * The end-to-end decode target on a GPU: batch-1 decode of a model shaped like Devstral Small 2 (24B)
 * with random FP8 weights of the real size (about 25 GB: e4m3 linears, BF16 embeddings and head), through
 * ModelFactory.cuda exactly as a served model runs, against the device's measured read bandwidth. A measurement
 * (it fails only if the run does); the detail says how far it is from the 75%-of-roofline target.
 */
public final class DecodeChecks {
    public static final String DEVSTRAL_SMALL = "dim=5120,layers=40,heads=32,kv_heads=8,head_dim=128,hidden=32768,vocab=131072";
    static final double TARGET_FRACTION = 0.75;
    private static final long HEADROOM_BYTES = 4L << 30;  // activations, KV cache, the fatbin's context

    private DecodeChecks() {}

    /** @param readGbPerSecond the device's read bandwidth as measured by {@link KernelChecks#readBandwidth()} */
    public static CheckResult devstralSmallFp8(DeviceInfo device, double readGbPerSecond, long seed) {
        String check = "decode devstral-small fp8", shape = "batch 1, 24B";
        var config = ModelShape.parse(DEVSTRAL_SMALL);
        long needed = (long) (config.nLayers() * (2L * config.dim() * (config.queryWidth() + config.kvWidth())
                + 3L * config.dim() * config.hiddenDim()) + 4L * config.vocabSize() * config.dim()) + HEADROOM_BYTES;
        if (device.totalMemoryBytes() < needed) {
            return CheckResult.skipped(check, shape, String.format(Locale.ROOT, "%.1f GiB of device memory, %.1f GiB needed",
                    device.totalMemoryBytes() / (double) (1L << 30), needed / (double) (1L << 30)));
        }
        return KernelChecks.attempt(check, shape, seed, () -> {
            DecodeBench.Result r;
            try (BenchModel model = BenchModel.synthetic(config, "fp8", seed)) {
                var settings = new DecodeBench.Settings(Runtime.getRuntime().availableProcessors(), 1, 32, 4, seed,
                        CpuWeights.STORED, "cuda");
                r = DecodeBench.run(model, settings, readGbPerSecond);
            }
            double fraction = r.rooflineFraction();
            String detail = String.format(Locale.ROOT, "%.1f tok/s, %.2f GB/token, %.0f GB/s = %.0f%% of read bandwidth "
                    + "(target %.0f%%%s); upload %.1f s", r.tokensPerSecond(), r.weightBytesPerToken() / 1e9,
                    r.achievedGbPerSecond(), 100 * fraction, 100 * TARGET_FRACTION, fraction >= TARGET_FRACTION ? ", met" : ", NOT met",
                    r.loadSeconds());
            return new CheckResult(check, shape, seed, true, Double.NaN, Double.NaN, r.stepMillisP50() * 1000, detail);
        });
    }
}
