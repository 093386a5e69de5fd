package io.tramontane.bench.model;

import io.tramontane.bench.BenchModel;
import io.tramontane.bench.ModelCost;
import io.tramontane.bench.ModelShape;
import io.tramontane.bench.SequenceBatch;
import io.tramontane.bench.kernels.Traffic;
import io.tramontane.engine.ModelFactory;
import io.tramontane.model.LanguageModel;
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
 * End-to-end forward steps of a synthetic model (default: the 0.86B Mistral shape of the CPU issue)
 * on the CPU backend, the same work as {@code tramontane bench decode|prefill}. {@code decode}: one
 * step of {@code batch} sequences, one token each, at contexts cycling through 0..255; {@code bytes}
 * is every weight once per step (divide by 10^9 for the GB/s to compare with the roofline).
 * {@code prefill}: one step of {@code batch} prompts of {@code prompt} tokens; {@code flops} as
 * {@link ModelCost#prefillFlops} (divide by 10^9 for GFLOP/s against the FMA peak). A 0.86B model
 * takes seconds per prefill: iterations are long, keep {@code -i} small.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class ModelBenchmark {
    private static final int CONTEXT = 256, BLOCK = 16;

    @Param("dim=2048,layers=16,heads=32,kv_heads=8,head_dim=64,hidden=5632,vocab=32768")
    public String shape;
    @Param({"bf16", "fp8"})
    public String dtype;
    @Param("1")
    public int batch;
    @Param("128")
    public int prompt;
    @Param("0")
    public int threads;  // 0: all available cores

    private BenchModel model;
    private LanguageModel lm;
    private SequenceBatch sequences;
    private long decodeBytes;
    private double prefillFlops;
    private int position;

    @Setup(Level.Trial)
    public void setUp() {
        model = BenchModel.synthetic(ModelShape.parse(shape), dtype, 1);
        int positions = Math.max(CONTEXT, prompt);
        int cores = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        lm = ModelFactory.cpu(model.weights(), new ModelFactory.Options(cores, 1,
                SequenceBatch.blocksNeeded(batch, positions, BLOCK), BLOCK, true));
        sequences = new SequenceBatch(batch, positions, BLOCK, model.config().vocabSize(), 1);
        ModelCost cost = ModelCost.of(model.weights());
        decodeBytes = cost.decodeBytesPerStep(batch);
        prefillFlops = cost.prefillFlops(prompt, batch);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        lm.close();
        model.close();
    }

    @Benchmark
    public float[][] decode(Traffic traffic) {
        float[][] logits = lm.forward(sequences.decode(position));
        position = (position + 1) % CONTEXT;
        traffic.add(decodeBytes, 0);
        return logits;
    }

    @Benchmark
    public float[][] prefill(Traffic traffic) {
        float[][] logits = lm.forward(sequences.prefill(prompt));
        traffic.add(0, (long) prefillFlops);
        return logits;
    }
}
