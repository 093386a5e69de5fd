package io.tramontane.bench.tokenizer;

import io.tramontane.tokenizer.Tekken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tekken encode throughput on one thread over a 1 MB mixed corpus (prose, code, JSON, CJK, emoji).
 * The {@code bytes} counter is UTF-8 input bytes per second: divide by 10^6 for MB/s.
 * Run: {@code java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar Tokenizer -f 1 -wi 2 -i 3}
 * (override the file with {@code -p tokenizer=PATH}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TokenizerEncodeBenchmark {
    @Param("../shared/tekken/tekken-v13.json")
    public String tokenizer;

    private Tekken tekken;
    private String corpus;
    private int corpusBytes;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Bytes {
        public long bytes;
    }

    @Setup(Level.Trial)
    public void load() throws IOException {
        tekken = Tekken.load(Path.of(tokenizer));
        corpus = MixedCorpus.generate(2603, 1 << 20);
        corpusBytes = corpus.getBytes(StandardCharsets.UTF_8).length;
    }

    @Benchmark
    public int[] encodeMixedCorpus(Bytes counter) {
        counter.bytes += corpusBytes;
        return tekken.encode(corpus);
    }
}
