package io.tramontane.cli;

import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.bench.BenchModel;
import io.tramontane.bench.ModelShape;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The model a decode or prefill benchmark runs, and how many threads and sequences. */
final class BenchModelOptions {
    @Option(names = "--model", description = "Checkpoint directory (or use --shape).")
    Path model;
    @Option(names = "--shape", description = "Synthetic model, e.g. dim=2048,layers=16,heads=32,kv_heads=8,head_dim=64,hidden=5632,vocab=32768")
    String shape;
    @Option(names = "--dtype", defaultValue = "bf16", description = "Weight dtype of a synthetic model: f32, bf16, fp8 (default: ${DEFAULT-VALUE}).")
    String dtype;
    @Option(names = "--seed", defaultValue = "1", description = "Seed of the synthetic weights and token ids (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--threads", description = "CPU threads (default: all available cores).")
    Integer threads;
    @Option(names = "--batch", defaultValue = "1", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--cpu-weights", defaultValue = "stored", description = "Linears as stored (default: read where "
            + "they lie, on 4 KB pages as a mapped checkpoint's), copied at load onto 2 MB pages, or quantized at load to q8 "
            + "or q4 (q4 on 2 MB pages); bytes per token count the quantized blocks and their scales.")
    String cpuWeights;
    @Option(names = "--kv-cache-dtype", defaultValue = "bf16", description = "How the KV cache stores keys and values: "
            + "bf16 (default), f32 or, cuda only, fp8.")
    String kvCacheDtype;
    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;
    @Option(names = "--backend", defaultValue = "cpu",
            description = "cpu (default) or cuda (device 0; 'tramontane gpu-check' measures the device's limits).")
    String backend;

    int threads() {
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (n < 1 || batch < 1) throw new UsageException("--threads and --batch must be >= 1");
        return n;
    }

    CpuWeights cpuWeights() {
        return ModelOptions.cpuWeights(cpuWeights, "cpu");
    }

    KvCacheDtype kvCache() {
        return ModelOptions.kvCacheDtype(kvCacheDtype, backend);
    }

    /** The weights as the human output names them: {@code bf16}, or {@code bf16 as q8} when quantized at load. */
    static String weights(String dtype, String cpuWeights) {
        return cpuWeights.equals(CpuWeights.STORED.cliName()) ? dtype : dtype + " as " + cpuWeights;
    }

    BenchModel open() {
        if ((model == null) == (shape == null)) throw new UsageException("give exactly one of --model DIR and --shape SHAPE");
        if (model != null) return BenchModel.checkpoint(model);
        try {
            return BenchModel.synthetic(ModelShape.parse(shape), dtype, seed);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
