package io.tramontane.bench.kernels;

import io.tramontane.backend.Activation;
import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.KvCache;
import io.tramontane.backend.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Paged attention through {@link CpuBackend#attention} (32 query heads, 8 KV heads, head_dim 64, blocks of 16).
 * {@code decodeAttention}: one decode token over a cache holding {@code context} positions; its cost should grow
 * linearly with context: counters are the cached K and V it must read (F32) and {@code 4 * heads * headDim *
 * context} flops (QK^T and PV). The cache is filled once per trial by a prefill; each operation then rewrites
 * position {@code context} and attends over it. {@code prefillAttention}: that prefill itself, a
 * {@code context}-token prompt from position 0 (one layer's attention of {@code bench prefill --prompt context});
 * counters are its queries, keys, values and output (F32) and {@code 4 * heads * headDim} flops per (query, visible
 * key) pair.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AttentionBenchmark {
    private static final int HEADS = 32, KV_HEADS = 8, HEAD_DIM = 64, BLOCK = 16;

    @Param({"128", "512", "1024", "2048", "4096"})
    public int context;
    @Param("0")
    public int threads;  // 0: all available cores

    private final Arena arena = Arena.ofShared();
    private CpuBackend backend;
    private KvCache cache;
    private Activation q, k, v, out, promptQ, promptK, promptV, promptOut;
    private AttentionBatch decode, prefill;
    private long bytes, flops, prefillBytes, prefillFlops;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend(new CpuBackend.Options(threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), true));
        int blocks = context / BLOCK + 1;
        int[] table = new int[blocks];
        for (int b = 0; b < blocks; b++) table[b] = b;
        cache = backend.allocateKvCache(1, blocks, BLOCK, KV_HEADS, HEAD_DIM);
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        prefill = new AttentionBatch(List.of(new AttentionBatch.Segment(0, context, 0, table)));
        promptQ = Inputs.activation(backend, arena, context, HEADS * HEAD_DIM);
        promptK = Inputs.activation(backend, arena, context, KV_HEADS * HEAD_DIM);
        promptV = Inputs.activation(backend, arena, context, KV_HEADS * HEAD_DIM);
        promptOut = backend.allocate(context, HEADS * HEAD_DIM);
        backend.attention(promptQ, promptK, promptV, cache, 0, prefill, scale, promptOut);
        decode = new AttentionBatch(List.of(new AttentionBatch.Segment(0, 1, context, table)));
        q = Inputs.activation(backend, arena, 1, HEADS * HEAD_DIM);
        k = Inputs.activation(backend, arena, 1, KV_HEADS * HEAD_DIM);
        v = Inputs.activation(backend, arena, 1, KV_HEADS * HEAD_DIM);
        out = backend.allocate(1, HEADS * HEAD_DIM);
        long attended = context + 1;
        bytes = 2L * attended * KV_HEADS * HEAD_DIM * Float.BYTES;
        flops = 4L * HEADS * HEAD_DIM * attended;
        prefillBytes = (2L * HEADS + 2L * KV_HEADS) * HEAD_DIM * context * Float.BYTES;
        prefillFlops = 4L * HEADS * HEAD_DIM * ((long) context * (context + 1) / 2);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        backend.close();
        arena.close();
    }

    @Benchmark
    public Activation decodeAttention(Traffic traffic) {
        backend.attention(q, k, v, cache, 0, decode, (float) (1 / Math.sqrt(HEAD_DIM)), out);
        traffic.add(bytes, flops);
        return out;
    }

    @Benchmark
    public Activation prefillAttention(Traffic traffic) {
        backend.attention(promptQ, promptK, promptV, cache, 0, prefill, (float) (1 / Math.sqrt(HEAD_DIM)), promptOut);
        traffic.add(prefillBytes, prefillFlops);
        return promptOut;
    }
}
