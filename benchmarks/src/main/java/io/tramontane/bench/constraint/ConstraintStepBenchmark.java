package io.tramontane.bench.constraint;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.constraint.ConstraintCompiler;
import io.tramontane.constraint.ConstraintLimits;
import io.tramontane.demo.DemoModel;
import io.tramontane.sampling.TokenConstraint;
import io.tramontane.tokenizer.Tekken;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The constraint's own work per decode step (mask the logits, then follow the token) on the demo
 * vocabulary with warm mask caches: a recorded walk of {@value #STEPS} tokens through the same schema as
 * {@link ConstrainedDecodeBenchmark} is replayed, and the time is reported per step.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ConstraintStepBenchmark {
    static final int STEPS = 512;

    private ConstraintCompiler compiler;
    private com.fasterxml.jackson.databind.JsonNode schema;
    private int[] walk;
    private float[] logits;

    @Setup
    public void record() throws Exception {
        Tekken tekken = Tekken.load(DemoModel.ensure(Files.createTempDirectory("tramontane-bench")).resolve("tekken.json"));
        compiler = ConstraintCompiler.forTokenizer(tekken, ConstraintLimits.defaults().withMaxStringLength(24));
        schema = new ObjectMapper().readTree(ConstrainedDecodeBenchmarkSchema.TEXT);
        logits = new float[tekken.vocabSize()];
        TokenConstraint constraint = compiler.jsonSchema(schema);
        SplittableRandom random = new SplittableRandom(7);
        List<Integer> tokens = new ArrayList<>();
        while (tokens.size() < STEPS) {
            float[] l = new float[tekken.vocabSize()];
            constraint.mask(l);
            List<Integer> allowed = new ArrayList<>();
            for (int i = 0; i < l.length; i++) if (l[i] == 0) allowed.add(i);
            int token = allowed.get(random.nextInt(allowed.size()));
            constraint.accept(token);
            tokens.add(token);
        }
        walk = tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    @Benchmark
    @OperationsPerInvocation(STEPS)
    public boolean maskAndAccept() {
        TokenConstraint constraint = compiler.jsonSchema(schema);
        for (int token : walk) {
            constraint.mask(logits);
            constraint.accept(token);
        }
        return constraint.isComplete();
    }
}
