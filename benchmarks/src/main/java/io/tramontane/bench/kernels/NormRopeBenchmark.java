package io.tramontane.bench.kernels;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Weight;
import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
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
 * The element-wise kernels around the matmuls, on {@code rows} tokens of width 2048 (32 heads of 64):
 * RMSNorm ({@code bytes}: x read, out written; 3 flops per element) and rotate-half RoPE in place
 * ({@code bytes}: x read and written plus the cos/sin tables; 3 flops per element). Both are memory
 * bound: compare {@code bytes} with the read bandwidth (they run from cache at these sizes).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NormRopeBenchmark {
    private static final int DIM = 2048, HEAD_DIM = 64;

    @Param({"1", "512"})
    public int rows;

    private final Arena arena = Arena.ofShared();
    private CpuBackend backend;
    private Activation x, out;
    private Weight gain;
    private float[] cos, sin;
    private long elements;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend(new CpuBackend.Options(1, true));
        x = Inputs.activation(backend, arena, rows, DIM);
        out = backend.allocate(rows, DIM);
        float[] ones = new float[DIM];
        Arrays.fill(ones, 1f);
        gain = backend.weight(Tensor.ofFloats("gain", new long[] {DIM}, ones));
        int half = HEAD_DIM / 2;
        cos = new float[rows * half];
        sin = new float[rows * half];
        for (int t = 0; t < rows; t++) {
            for (int i = 0; i < half; i++) {
                double angle = t * Math.pow(1e6, -2.0 * i / HEAD_DIM);
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
        elements = (long) rows * DIM;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
        arena.close();
    }

    @Benchmark
    public Activation rmsNorm(Traffic traffic) {
        backend.rmsNorm(x, gain, 1e-5f, out);
        traffic.add(2 * elements * Float.BYTES + DIM * Float.BYTES, 3 * elements);
        return out;
    }

    /** Rotating in place: the values drift over iterations, but a rotation keeps their magnitude. */
    @Benchmark
    public Activation rope(Traffic traffic) {
        backend.rope(x, HEAD_DIM, cos, sin);
        traffic.add(2 * elements * Float.BYTES + 2L * cos.length * Float.BYTES, 3 * elements);
        return x;
    }
}
