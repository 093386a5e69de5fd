package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import java.util.EnumMap;
import java.util.Map;

/** Launches {@code embed_<format>} (cuda-kernels/embedding.cu): out[t] = table[tokens[t]], one block per token. */
final class EmbeddingKernels {
    static final int THREADS = 256;
    private final Map<WeightFormat, Launcher> kernels = new EnumMap<>(WeightFormat.class);

    EmbeddingKernels(KernelModule module) {
        for (WeightFormat f : WeightFormat.values()) kernels.put(f, Launcher.of(module, name(f), 5));
    }

    static String name(WeightFormat format) {
        return "embed_" + format.suffix;
    }

    /** @param tokens [n] ids, already checked against the vocabulary; @param out [n, table.cols] */
    void launch(Stream stream, CudaWeight table, DeviceBuffer tokens, int n, DeviceBuffer out) {
        kernels.get(table.format()).launch(stream, config(n), args -> arguments(args, table, tokens, n, out));
    }

    static LaunchConfig config(int n) {
        Launcher.requirePositive("tokens", n);
        return new LaunchConfig(Dim3.of(n), Dim3.of(THREADS), 0);
    }

    static KernelArgs arguments(KernelArgs args, CudaWeight table, DeviceBuffer tokens, int n, DeviceBuffer out) {
        Launcher.requirePositive("tokens", n);
        Launcher.requireInts(tokens, n, "tokens");
        Launcher.requireFloats(out, n * table.cols(), "embedding output");
        table.data().requireBytes(table.rows() * table.stride() * table.format().bytes, "embedding table");
        return args.clear().pointer(table.data()).i64(table.stride()).pointer(tokens).pointer(out)
                .i32(Math.toIntExact(table.cols()));
    }
}
