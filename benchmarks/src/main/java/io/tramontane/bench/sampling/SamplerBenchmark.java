package io.tramontane.bench.sampling;

import io.tramontane.bench.kernels.Traffic;
import io.tramontane.sampling.Sampler;
import io.tramontane.sampling.SamplingParams;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One sampled token from a 131072-entry logit row (Mistral's Tekken vocabulary): greedy, top-k 50 and
 * top-p 0.9 at temperature 0.7. The sampler works in place, so each operation first copies the logits
 * (512 KB, included). Score is tokens/s; {@code bytes} counts the logits read once.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SamplerBenchmark {
    private static final int VOCAB = 131_072;

    @Param({"greedy", "top_k", "top_p"})
    public String mode;

    private float[] logits, scratch;
    private Sampler sampler;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(5);
        logits = new float[VOCAB];
        // a trained model's logits: a broad bulk and a few strong candidates
        for (int i = 0; i < VOCAB; i++) logits[i] = (float) (random.nextGaussian() * 2);
        for (int i = 0; i < 20; i++) logits[random.nextInt(VOCAB)] += 12;
        scratch = new float[VOCAB];
        SamplingParams params = switch (mode) {
            case "greedy" -> SamplingParams.greedy(1 << 20);
            case "top_k" -> SamplingParams.greedy(1 << 20).withTemperature(0.7).withFilters(50, 1.0, 0.0);
            case "top_p" -> SamplingParams.greedy(1 << 20).withTemperature(0.7).withFilters(0, 0.9, 0.0);
            default -> throw new IllegalArgumentException("mode " + mode);
        };
        sampler = new Sampler(params.withSeed(42L), new int[] {1}, -1);
    }

    @Benchmark
    public int sample(Traffic traffic) {
        System.arraycopy(logits, 0, scratch, 0, VOCAB);
        traffic.add((long) VOCAB * Float.BYTES, 0);
        return sampler.next(scratch).token();
    }
}
