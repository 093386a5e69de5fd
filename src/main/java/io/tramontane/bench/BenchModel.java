package io.tramontane.bench;

import io.tramontane.backend.KvCacheDtype;
import io.tramontane.model.LanguageModel;
import io.tramontane.engine.ModelFactory;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.model.ModelConfig;
import io.tramontane.weights.Checkpoint;
import io.tramontane.weights.LayerWeights;
import io.tramontane.weights.ModelWeights;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The weights a decode or prefill benchmark runs: a synthetic model or a checkpoint, with the memory
 * that holds them (closed with this).
 *
 * @param name  the checkpoint directory, or {@code synthetic}
 * @param dtype the linears' dtype as people write it ({@code bf16}, {@code fp8}, ...)
 */
public record BenchModel(String name, String dtype, ModelWeights weights, AutoCloseable memory) implements AutoCloseable {

    public static BenchModel synthetic(ModelConfig shape, String dtype, long seed) {
        SyntheticModel model = SyntheticModel.generate(shape, SyntheticModel.dtype(dtype), seed);
        return new BenchModel("synthetic", dtype.toLowerCase(Locale.ROOT), model.weights(), model);
    }

    public static BenchModel checkpoint(Path dir) {
        Checkpoint checkpoint = Checkpoint.open(dir);
        LayerWeights first = checkpoint.weights().layers().getFirst();
        String dtype = first.wq().weight().dtype().name().toLowerCase(Locale.ROOT);
        return new BenchModel(dir.toString(), dtype, checkpoint.weights(), checkpoint);
    }

    public ModelConfig config() {
        return weights.config();
    }

    /** Throws unless {@code backend} is cpu or cuda and the CPU weight format and KV cache dtype suit it. */
    static void requireBackend(String backend, CpuWeights cpuWeights, KvCacheDtype kvCache) {
        if (!backend.equals("cpu") && !backend.equals("cuda")) {
            throw new IllegalArgumentException("backend must be cpu or cuda, got '" + backend + "'");
        }
        CpuWeights.requireFor(backend, cpuWeights);
        KvCacheDtype.requireFor(backend, kvCache);
    }

    /** The weights on {@code backend} (cpu, or cuda on device 0) as a model a benchmark steps through. */
    LanguageModel load(String backend, ModelFactory.Options options, KvCacheDtype kvCache) {
        return backend.equals("cuda") ? ModelFactory.cuda(weights, options, kvCache) : ModelFactory.cpu(weights, options, kvCache);
    }

    @Override
    public void close() {
        try {
            memory.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot release the weights of " + name, e);
        }
    }
}
