package io.tramontane.engine;

import io.tramontane.backend.InProcessCollective;
import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.backend.cuda.CudaBackend;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.cuda.NcclGroup;
import io.tramontane.model.LanguageModel;
import io.tramontane.model.Model;
import io.tramontane.model.Shard;
import io.tramontane.model.TensorParallelModel;
import io.tramontane.weights.ModelWeights;
import io.tramontane.weights.Progress;
import java.util.ArrayList;
import java.util.List;

/** Puts canonical weights on backends: one rank, or a tensor-parallel group sharing the thread budget. */
public final class ModelFactory {
    private ModelFactory() {}

    /**
     * @param threads             CPU threads in total (split evenly over ranks)
     * @param tensorParallel      ranks
     * @param kvBlocks            KV cache blocks per rank
     * @param staticActivationFp8 see {@link CpuBackend.Options}
     * @param cpuWeights          linears as stored, copied or quantized at load (CPU backend only)
     */
    public record Options(int threads, int tensorParallel, int kvBlocks, int blockSize, boolean staticActivationFp8,
                          CpuWeights cpuWeights) {
        public Options {
            if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            if (tensorParallel < 1) throw new IllegalArgumentException("tensor parallelism must be >= 1, got " + tensorParallel);
            if (kvBlocks < 1 || blockSize < 1) throw new IllegalArgumentException("KV cache needs blocks >= 1 of size >= 1");
            CpuWeights.requireGiven(cpuWeights);
        }

        /** Linears as stored. */
        public Options(int threads, int tensorParallel, int kvBlocks, int blockSize, boolean staticActivationFp8) {
            this(threads, tensorParallel, kvBlocks, blockSize, staticActivationFp8, CpuWeights.STORED);
        }

        public static Options defaults() {
            return new Options(Runtime.getRuntime().availableProcessors(), 1, 1024, 16, true);
        }

        public Options withTensorParallel(int ranks) {
            return new Options(threads, ranks, kvBlocks, blockSize, staticActivationFp8, cpuWeights);
        }

        public Options withKvBlocks(int blocks) {
            return new Options(threads, tensorParallel, blocks, blockSize, staticActivationFp8, cpuWeights);
        }

        public Options withStaticActivationFp8(boolean enabled) {
            return new Options(threads, tensorParallel, kvBlocks, blockSize, enabled, cpuWeights);
        }

        public Options withCpuWeights(CpuWeights weights) {
            return new Options(threads, tensorParallel, kvBlocks, blockSize, staticActivationFp8, weights);
        }
    }

    /** The model on the CPU with an F32 KV cache (exact). */
    public static LanguageModel cpu(ModelWeights weights, Options options) {
        return cpu(weights, options, KvCacheDtype.F32);
    }

    /** The model on the CPU, its KV cache stored as {@code kvCache} (F32 or BF16). */
    public static LanguageModel cpu(ModelWeights weights, Options options, KvCacheDtype kvCache) {
        int ranks = options.tensorParallel();
        int threadsPerRank = Math.max(1, options.threads() / ranks);
        var backendOptions = new CpuBackend.Options(threadsPerRank, options.staticActivationFp8(), options.cpuWeights(),
                kvCache);
        if (ranks == 1) {
            return cpuRank(weights, new CpuBackend(backendOptions), Shard.of(weights.config(), 0, 1), options);
        }
        InProcessCollective group = new InProcessCollective(ranks);
        List<Model> models = new ArrayList<>();
        try {
            for (int r = 0; r < ranks; r++) {
                models.add(cpuRank(weights, new CpuBackend(backendOptions, group.forRank(r)),
                        Shard.of(weights.config(), r, ranks), options));
            }
        } catch (RuntimeException e) {
            models.forEach(Model::close);
            throw e;
        }
        return new TensorParallelModel(models, group::abort);
    }

    /** One rank's model; its backend (threads, quantized weights) is closed if the model cannot be built. */
    private static Model cpuRank(ModelWeights weights, CpuBackend backend, Shard shard, Options options) {
        try {
            return new Model(weights, backend, shard, options.kvBlocks(), options.blockSize());
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /**
     * The model on CUDA devices 0 .. tensorParallel-1 ({@code options.threads()} is unused): one rank on device 0,
     * or a tensor-parallel group whose ranks meet in NCCL. Without a usable driver, NCCL (for more than one rank)
     * or enough devices this throws IllegalStateException naming the reason.
     */
    public static LanguageModel cuda(ModelWeights weights, Options options) {
        return cuda(weights, options, KvCacheDtype.BF16, true, Progress.silent());
    }

    /** {@link #cuda(ModelWeights, Options)} with the KV cache stored as {@code kvCache} (F32: exact). */
    public static LanguageModel cuda(ModelWeights weights, Options options, KvCacheDtype kvCache) {
        return cuda(weights, options, kvCache, true, Progress.silent());
    }

    /**
     * {@link #cuda(ModelWeights, Options, KvCacheDtype)}; {@code tensorCoreLinears} false keeps FP32 activations in every
     * linear (with an F32 cache: the golden checks' exact path). The weight bytes uploaded to every rank's device are
     * counted on {@code uploads}.
     */
    public static LanguageModel cuda(ModelWeights weights, Options options, KvCacheDtype kvCache, boolean tensorCoreLinears,
                                     Progress uploads) {
        var cuda = new CudaSettings(kvCache, tensorCoreLinears);
        LanguageModel model = cudaRanks(weights, options, cuda, uploads);
        uploads.finish();
        return model;
    }

    /** What ModelFactory.Options does not say about a CUDA rank. */
    private record CudaSettings(KvCacheDtype kvCache, boolean tensorCoreLinears) {
        CudaBackend.Options backend(int device, Options options) {
            return new CudaBackend.Options(device, options.staticActivationFp8(),
                    CudaBackend.Options.defaults().activationBudget(), kvCache, tensorCoreLinears);
        }
    }

    private static LanguageModel cudaRanks(ModelWeights weights, Options options, CudaSettings cuda, Progress uploads) {
        CpuWeights.requireFor("cuda", options.cpuWeights());
        int ranks = options.tensorParallel();
        if (ranks == 1) {
            return cudaRank(weights, CudaBackend.open(cuda.backend(0, options)), Shard.of(weights.config(), 0, 1), options, uploads);
        }
        Shard.of(weights.config(), 0, ranks);  // an unsplittable model fails before any device work
        NcclGroup group = NcclGroup.create(ranks);
        List<Model> models = new ArrayList<>();
        try {
            for (int r = 0; r < ranks; r++) {
                models.add(cudaRank(weights, CudaBackend.openRank(cuda.backend(r, options), group, r),
                        Shard.of(weights.config(), r, ranks), options, uploads));
            }
        } catch (RuntimeException e) {
            models.forEach(Model::close);
            group.abort();  // the communicators no rank holds yet
            throw e;
        }
        return new TensorParallelModel(models, group::abort);
    }

    /** One rank's model; its backend is closed if the model cannot be built. */
    private static Model cudaRank(ModelWeights weights, CudaBackend backend, Shard shard, Options options, Progress uploads) {
        try {
            backend.reportUploadsTo(uploads);
            return new Model(weights, backend, shard, options.kvBlocks(), options.blockSize());
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }
}
