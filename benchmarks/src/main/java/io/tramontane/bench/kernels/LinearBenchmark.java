package io.tramontane.bench.kernels;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Weight;
import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.bench.SyntheticModel;
import io.tramontane.weights.DType;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * {@code out[n, out] = x[n, in] W^T} through {@link CpuBackend#linear}, per weight dtype, for the
 * matrix shapes of a 0.86B Mistral-shaped model (attention 2048x2048, FFN up 5632x2048, FFN down
 * 2048x5632). {@code n = 1} is decode's matvec (bound by weight bytes: compare {@code bytes} with the
 * roofline's read bandwidth), {@code n = 64} and {@code 512} are prefill matmuls (bound by FMAs:
 * compare {@code flops} with the FMA peak). Counters: weight bytes plus FP32 activations in and out;
 * {@code 2 * n * out * in} flops. Operations cycle through copies of the weight totalling at least
 * 256 MB: a single 8-23 MB matrix would stay in the last-level cache, a model's weights never do.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LinearBenchmark {

    @Param({"BF16", "F8_E4M3", "F32"})
    public String dtype;
    @Param({"2048x2048", "5632x2048", "2048x5632"})
    public String shape;
    @Param({"1", "64", "512"})
    public int n;
    @Param("0")
    public int threads;  // 0: all available cores
    /** {@code stored} (the dtype above, as in the checkpoint) or {@code q8}/{@code q4}: quantized at load. */
    @Param("stored")
    public String cpuWeights;
    /**
     * MB of weight copies cycled through: by default past the last-level cache (32 MB on the EPYC VM, 260 MB reported
     * on a Xeon); a size that fits a cache separates a kernel's arithmetic from its memory stream.
     */
    @Param("1024")
    public long streamedMB;
    /**
     * Bytes past 64-byte alignment the weights start at: a checkpoint's tensors lie wherever its header ends (8-byte
     * aligned in practice), the synthetic ones at 64.
     */
    @Param("0")
    public int misalign;

    private final Arena arena = Arena.ofShared();
    private CpuBackend backend;
    private Weight[] weights;
    private int next;
    private Activation x, out;
    private long bytes, flops;

    @Setup(Level.Trial)
    public void setUp() {
        String[] dims = shape.split("x");
        int outFeatures = Integer.parseInt(dims[0]), inFeatures = Integer.parseInt(dims[1]);
        CpuWeights format = CpuWeights.parse(cpuWeights);
        backend = new CpuBackend(new CpuBackend.Options(threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), true,
                format));
        long weightBytes = format.quantized() ? format.bytes(outFeatures, inFeatures)
                : (long) outFeatures * inFeatures * DType.valueOf(dtype).bits() / 8;
        weights = new Weight[(int) Math.max(1, ((streamedMB << 20) + weightBytes - 1) / weightBytes)];
        for (int i = 0; i < weights.length; i++) {
            Linear linear = SyntheticModel.linear(arena, "w" + i, DType.valueOf(dtype), outFeatures, inFeatures, i);
            if (misalign > 0) {
                Tensor w = linear.weight();
                MemorySegment moved = arena.allocate(w.storage().byteSize() + 64, 64).asSlice(misalign, w.storage().byteSize());
                moved.copyFrom(w.storage());
                linear = Linear.of(Tensor.of(w.name(), w.dtype(), w.shape(), moved));
            }
            weights[i] = backend.linear(linear);
        }
        x = Inputs.activation(backend, arena, n, inFeatures);
        out = backend.allocate(n, outFeatures);
        bytes = weightBytes + 4L * n * (inFeatures + outFeatures);
        flops = 2L * n * outFeatures * inFeatures;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
        arena.close();
    }

    @Benchmark
    public Activation linear(Traffic traffic) {
        backend.linear(x, weights[next], out);
        next = (next + 1) % weights.length;
        traffic.add(bytes, flops);
        return out;
    }
}
