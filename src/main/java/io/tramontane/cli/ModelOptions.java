package io.tramontane.cli;

import io.tramontane.api.Tramontane;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.backend.cuda.KvCacheDtype;
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

    @Option(names = "--kv-cache-gib", description = "Memory for the KV cache of all sequences (default: cpu a quarter of the "
            + "Java heap, at least 0.25 GiB, on the heap: raise -Xmx through TRAMONTANE_JAVA_OPTS; cuda per device, what 90% "
            + "of its memory leaves after the weights and 3 GiB of activations and buffers).")
    Double kvCacheGib;
    @Option(names = "--kv-cache-dtype", description = "cuda only: how the KV cache stores keys and "
            + "values, bf16 (default) or fp8 (e4m3 with a K and a V scale of 1 per layer, as vLLM's --kv-cache-dtype fp8: "
            + "half the memory and half the bytes decode attention reads).")
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

    /** The {@code --kv-cache-dtype} value (null: not given, BF16), refused for a backend other than cuda. */
    static KvCacheDtype kvCacheDtype(String value, String backend) {
        if (value == null) return KvCacheDtype.BF16;
        if (!backend.equals("cuda")) {
            throw new UsageException("--kv-cache-dtype applies to --backend cuda only (the CPU caches FP32), not " + backend);
        }
        KvCacheDtype dtype;
        try {
            dtype = KvCacheDtype.parse(value);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--kv-cache-dtype must be bf16 or fp8, got '" + value + "'");
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
