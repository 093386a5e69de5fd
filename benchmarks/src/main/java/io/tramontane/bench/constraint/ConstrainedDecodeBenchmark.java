package io.tramontane.bench.constraint;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.api.Tramontane;
import io.tramontane.constraint.ConstraintCompiler;
import io.tramontane.constraint.ConstraintLimits;
import io.tramontane.demo.DemoModel;
import io.tramontane.engine.FinishReason;
import io.tramontane.engine.TokenEvent;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.sampling.TokenConstraint;
import io.tramontane.tokenizer.Tekken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * A constrained against an unconstrained generation on the demo model, through the engine: the prompt's
 * prefill then {@code tokens - 1} decode steps, sampled at temperature 1. The decode-step cost is
 * {@code (time(65) - time(1)) / 64}; the issue asks the constrained one to stay within 1.2x. The schema
 * (an array of at least 100 persons) cannot complete within 65 tokens, so the constrained run also makes
 * every step, and it visits strings, numbers, enums, nested objects and arrays. Masks are warm after the
 * first operations (the first computation of each state is measured by the constraint tests).
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar ConstrainedDecode</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ConstrainedDecodeBenchmark {
    private static final String SCHEMA = ConstrainedDecodeBenchmarkSchema.TEXT;

    @Param({"none", "json_schema"})
    public String constraint;

    @Param({"1", "65"})
    public int tokens;

    private Tramontane model;
    private ConstraintCompiler compiler;
    private int[] prompt;
    private final AtomicInteger seed = new AtomicInteger();

    @Setup
    public void open() throws Exception {
        Path cache = Files.createTempDirectory("tramontane-bench");
        model = Tramontane.open(DemoModel.ensure(cache), "demo", Tramontane.Options.defaults().withThreads(2));
        Tekken tekken = model.tokenizer().orElseThrow();
        compiler = ConstraintCompiler.forTokenizer(tekken, ConstraintLimits.defaults().withMaxStringLength(24));
        prompt = model.encode("Reply with a list of people as JSON:");
    }

    @TearDown
    public void close() {
        model.close();
    }

    @Benchmark
    public int generate() throws Exception {
        var sampling = SamplingParams.greedy(tokens).withTemperature(1.0).withSeed((long) seed.incrementAndGet())
                .withLimits(tokens, 0, true);
        TokenConstraint c = constraint.equals("none") ? null : compiler.jsonSchema(new ObjectMapper().readTree(SCHEMA));
        AtomicInteger count = new AtomicInteger();
        CompletableFuture<FinishReason> done = new CompletableFuture<>();
        model.generate(prompt, sampling, c, (TokenEvent e) -> {
            count.incrementAndGet();
            if (e.isLast()) done.complete(e.finish());
        });
        if (done.get(60, TimeUnit.SECONDS) != FinishReason.LENGTH || count.get() != tokens) {
            throw new IllegalStateException("expected " + tokens + " tokens ending by length, got " + count.get());
        }
        return count.get();
    }
}
