package io.tramontane.cli;

import io.tramontane.api.Tramontane;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.weights.Progress;
import picocli.CommandLine.Option;

/** How to load a model: shared by the commands that run one. */
final class ModelOptions {
    @Option(names = "--model", defaultValue = "demo", description = "Model directory, or 'demo' (default: random weights).")
    String model;
    @Option(names = "--threads", description = "CPU threads (default: all available cores).")
    Integer threads;
    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel ranks (default: ${DEFAULT-VALUE}).")
    int tensorParallel;
    @Option(names = "--backend", defaultValue = "cpu",
            description = "cpu (default) or cuda (devices 0 .. tp-1, ranks joined by NCCL; not yet validated on a GPU).")
    String backend;
    @Option(names = "--cpu-weights", defaultValue = "stored", description = "CPU backend linears: stored (default: the "
            + "checkpoint's dtype, read where the file is mapped), copied (that dtype copied at load onto 2 MB pages: one "
            + "sequence decoded 2-9% faster here, RAM the page cache does not share), q8 (int8 blocks of 32 with an FP32 scale, 1.125 bytes/weight) or q4 (4-bit blocks "
            + "of 32 with a BF16 scale, 0.5625 bytes/weight, int8 activations), quantized at load.")
    String cpuWeights;

    @Option(names = "--kv-cache-gib", description = "Memory for the KV cache of all sequences (default: cpu what 75% of "
            + "the machine's memory leaves after the weights and the Java heap, at least 0.25 GiB, off the heap and touched "
            + "only as sequences fill it; cuda per device, what 90% of its memory leaves after the weights and 3 GiB of "
            + "activations and buffers).")
    Double kvCacheGib;
    @Option(names = "--kv-cache-dtype", description = "How the KV cache stores keys and values: bf16 (default: half the "
            + "memory of f32 and half the bytes decode attention reads), f32 (exact) or, cuda only, fp8 (e4m3 with a K "
            + "and a V scale of 1 per layer, as vLLM's --kv-cache-dtype fp8: half of bf16).")
    String kvCacheDtype;

    /** The load options these flags describe, on top of {@code base}. */
    Tramontane.Options options(Tramontane.Options base) {
        if (!backend.equals("cpu") && !backend.equals("cuda")) {
            throw new UsageException("--backend must be cpu or cuda, got '" + backend + "'");
        }
        if (kvCacheGib != null && !(kvCacheGib > 0)) throw new UsageException("--kv-cache-gib must be > 0, got " + kvCacheGib);
        var options = base.withTensorParallel(tensorParallel).withBackend(backend).withCpuWeights(cpuWeights(cpuWeights, backend));
        if (kvCacheGib != null) options = options.withKvCacheBytes((long) (kvCacheGib * (1L << 30)));
        options = options.withKvCacheDtype(kvCacheDtype(kvCacheDtype, backend));
        return threads != null ? options.withThreads(threads) : options;
    }

    /** The {@code --cpu-weights} value, refused for a backend other than cpu. */
    static CpuWeights cpuWeights(String value, String backend) {
        CpuWeights weights;
        try {
            weights = CpuWeights.parse(value);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--cpu-weights must be " + CpuWeights.NAMES + ", got '" + value + "'");
        }
        if (weights != CpuWeights.STORED && !backend.equals("cpu")) {
            throw new UsageException("--cpu-weights " + value + " applies to --backend cpu only, not " + backend);
        }
        return weights;
    }

    /** The {@code --kv-cache-dtype} value (null: not given, BF16); fp8 is refused for a backend other than cuda. */
    static KvCacheDtype kvCacheDtype(String value, String backend) {
        if (value == null) return KvCacheDtype.BF16;
        KvCacheDtype dtype;
        try {
            dtype = KvCacheDtype.parse(value);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--kv-cache-dtype must be bf16, fp8 or f32, got '" + value + "'");
        }
        if (dtype == KvCacheDtype.FP8_E4M3 && !backend.equals("cuda")) {
            throw new UsageException("--kv-cache-dtype fp8 applies to --backend cuda only (the CPU caches bf16 or f32), not "
                    + backend);
        }
        return dtype;
    }

    Tramontane open() {
        return open(Tramontane.Options.defaults());
    }

    /** Opens the model with these flags on top of {@code base}; GPU uploads draw a progress bar on stderr. */
    Tramontane open(Tramontane.Options base) {
        return Tramontane.open(model, options(base), bytes -> Progress.bar(System.err, "uploading to " + backend, bytes));
    }
}
