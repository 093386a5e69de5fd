package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.weights.Floats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tiled attention kernel against a float64 reference on random queries, keys and values: several sequences in
 * one batch (a chunked-prefill segment starting deep in its context, long and short decodes, a fresh prompt), GQA
 * groups 1/4/8, head dims 64/128, blocks of 1 (keys gathered) and 16 (keys loaded from the cache), contexts from 1
 * to 3000 (several softmax chunks), 1 to 3 threads, FP32 and BF16 caches (the reference then takes the rounded K/V);
 * and every output bitwise the same however the work is split.
 */
class CpuAttentionTest {
    private static final int KV_HEADS = 2;
    /** Float64 outputs by (group, head_dim, block size): the same fixture serves every thread count. */
    private static final Map<List<Integer>, double[][]> REFERENCES = new ConcurrentHashMap<>();

    /** One sequence of the batch: its positions {@code [start, start + length)} are computed, earlier ones cached. */
    private record Sequence(int start, int length) {}

    private static final List<Sequence> SEQUENCES = List.of(
            new Sequence(1500, 37),   // chunked prefill across the chunk boundary at 1536
            new Sequence(2999, 1),    // decode at context 3000
            new Sequence(0, 70),      // a fresh prompt: contexts 1 .. 70
            new Sequence(0, 1),       // the first token of a sequence: context 1
            new Sequence(511, 2));    // decode-sized segment ending exactly on a chunk boundary

    static Stream<Arguments> shapes() {
        List<Arguments> shapes = new ArrayList<>();
        for (int group : new int[] {1, 4, 8}) {
            for (int headDim : new int[] {64, 128}) {
                for (int blockSize : new int[] {1, 16}) {
                    for (int threads = 1; threads <= 3; threads++) {
                        // BF16 on every shape, one thread count each: the kernel's loads are the only difference
                        shapes.add(Arguments.of(group, headDim, blockSize, threads, KvCacheDtype.F32));
                        if (threads == 2) shapes.add(Arguments.of(group, headDim, blockSize, threads, KvCacheDtype.BF16));
                    }
                }
            }
        }
        return shapes.stream();
    }

    /** Random K/V for every position of every sequence, queries for the computed ones, and the paged cache. */
    private static final class Fixture implements AutoCloseable {
        final int group, headDim, blockSize, heads, kvWidth;
        /** K/V as computed, and as the cache holds them (BF16: rounded), which the reference takes. */
        final float[][] keys = new float[SEQUENCES.size()][], values = new float[SEQUENCES.size()][];
        final float[][] cachedKeys = new float[SEQUENCES.size()][], cachedValues = new float[SEQUENCES.size()][];
        final float[][] queries = new float[SEQUENCES.size()][];
        final int[][] tables = new int[SEQUENCES.size()][];
        final CpuKvCache cache;

        Fixture(int group, int headDim, int blockSize, long seed, KvCacheDtype dtype) {
            this(group, headDim, blockSize, seed, dtype, false);
        }

        /** @param roundInputs K/V rounded to BF16 before they reach the cache (as computed, then, they are BF16 values) */
        Fixture(int group, int headDim, int blockSize, long seed, KvCacheDtype dtype, boolean roundInputs) {
            this.group = group;
            this.headDim = headDim;
            this.blockSize = blockSize;
            this.heads = group * KV_HEADS;
            this.kvWidth = KV_HEADS * headDim;
            SplittableRandom random = new SplittableRandom(seed);
            int blocks = 0;
            for (int s = 0; s < SEQUENCES.size(); s++) {
                Sequence q = SEQUENCES.get(s);
                int positions = q.start() + q.length();
                keys[s] = gaussian(random, positions * kvWidth, 1);
                values[s] = gaussian(random, positions * kvWidth, 1);
                if (roundInputs) {
                    keys[s] = bf16(keys[s]);
                    values[s] = bf16(values[s]);
                }
                cachedKeys[s] = dtype == KvCacheDtype.BF16 ? bf16(keys[s]) : keys[s];
                cachedValues[s] = dtype == KvCacheDtype.BF16 ? bf16(values[s]) : values[s];
                // every third query row is sharp (scores of spread ~4): the running max matters there
                queries[s] = gaussian(random, q.length() * heads * headDim, 1);
                for (int i = 0; i < q.length(); i += 3) {
                    for (int c = 0; c < heads * headDim; c++) queries[s][i * heads * headDim + c] *= 4;
                }
                blocks += (positions + blockSize - 1) / blockSize;
            }
            // blocks of all sequences shuffled through one pool, so paging mistakes cannot hide
            int[] pool = IntStream.range(0, blocks + 3).toArray();
            for (int i = pool.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1), t = pool[i];
                pool[i] = pool[j];
                pool[j] = t;
            }
            cache = new CpuKvCache(dtype, 2, pool.length, blockSize, KV_HEADS, headDim);
            int next = 0;
            for (int s = 0; s < SEQUENCES.size(); s++) {
                Sequence q = SEQUENCES.get(s);
                int needed = (q.start() + q.length() + blockSize - 1) / blockSize;
                tables[s] = Arrays.copyOfRange(pool, next, next + needed);
                next += needed;
                if (q.start() > 0) {  // the cached prefix, written as earlier steps would have
                    CpuActivation k = slice(keys[s], 0, q.start(), kvWidth), v = slice(values[s], 0, q.start(), kvWidth);
                    cache.write(1, k, v, new AttentionBatch(List.of(new AttentionBatch.Segment(0, q.start(), 0, tables[s]))));
                }
            }
        }

        /** Runs attention for every sequence in order, as one batch; returns each one's output rows. */
        float[][] attend(CpuThreads threads) {
            int[][] parts = new int[SEQUENCES.size()][];
            for (int s = 0; s < parts.length; s++) parts[s] = new int[] {s, 0, SEQUENCES.get(s).length()};
            return attend(threads, parts);
        }

        /**
         * Runs attention for {@code parts} as one batch, in that row order: part {@code {s, first, count}} is tokens
         * {@code [first, first + count)} of sequence s. Returns each part's output rows.
         */
        float[][] attend(CpuThreads threads, int[]... parts) {
            int rows = 0;
            for (int[] part : parts) rows += part[2];
            CpuActivation q = new CpuActivation(rows, heads * headDim), out = new CpuActivation(rows, heads * headDim);
            CpuActivation k = new CpuActivation(rows, kvWidth), v = new CpuActivation(rows, kvWidth);
            Arrays.fill(out.data(), Float.NaN);  // every output element must be written
            List<AttentionBatch.Segment> segments = new ArrayList<>();
            int row = 0;
            for (int[] part : parts) {
                int s = part[0], first = part[1], count = part[2], start = SEQUENCES.get(s).start() + first;
                System.arraycopy(queries[s], first * heads * headDim, q.data(), row * heads * headDim, count * heads * headDim);
                System.arraycopy(keys[s], start * kvWidth, k.data(), row * kvWidth, count * kvWidth);
                System.arraycopy(values[s], start * kvWidth, v.data(), row * kvWidth, count * kvWidth);
                segments.add(new AttentionBatch.Segment(row, count, start, tables[s]));
                row += count;
            }
            CpuAttention.run(threads, q, k, v, cache, 1, new AttentionBatch(segments), (float) (1 / Math.sqrt(headDim)), out);
            float[][] result = new float[parts.length][];
            row = 0;
            for (int p = 0; p < parts.length; p++) {
                result[p] = Arrays.copyOfRange(out.data(), row * heads * headDim, (row + parts[p][2]) * heads * headDim);
                row += parts[p][2];
            }
            return result;
        }

        /** Every sequence's output rows, in float64. */
        double[][] reference() {
            double[][] out = new double[SEQUENCES.size()][];
            for (int s = 0; s < out.length; s++) {
                out[s] = new double[SEQUENCES.get(s).length() * heads * headDim];
                for (int i = 0; i < SEQUENCES.get(s).length(); i++) {
                    for (int h = 0; h < heads; h++) System.arraycopy(reference(s, i, h), 0, out[s], (i * heads + h) * headDim, headDim);
                }
            }
            return out;
        }

        /** Output of query head {@code h} of token {@code i} of sequence {@code s}, in float64. */
        double[] reference(int s, int i, int h) {
            Sequence seq = SEQUENCES.get(s);
            int position = seq.start() + i, kvHead = h / group, q0 = (i * heads + h) * headDim;
            double[] scores = new double[position + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j <= position; j++) {
                double dot = 0;
                for (int d = 0; d < headDim; d++) dot += (double) queries[s][q0 + d] * cachedKeys[s][j * kvWidth + kvHead * headDim + d];
                scores[j] = dot / Math.sqrt(headDim);
                max = Math.max(max, scores[j]);
            }
            double sum = 0;
            for (int j = 0; j <= position; j++) sum += scores[j] = Math.exp(scores[j] - max);
            double[] out = new double[headDim];
            for (int j = 0; j <= position; j++) {
                for (int d = 0; d < headDim; d++) out[d] += scores[j] / sum * cachedValues[s][j * kvWidth + kvHead * headDim + d];
            }
            return out;
        }

        @Override
        public void close() {
            cache.close();
        }
    }

    private static float[] bf16(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) r[i] = Floats.bf16ToFloat(Floats.floatToBf16(a[i]));
        return r;
    }

    private static float[] gaussian(SplittableRandom random, int n, double sigma) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (random.nextGaussian() * sigma);
        return a;
    }

    private static CpuActivation slice(float[] data, int fromRow, int rows, int cols) {
        return new CpuActivation(Arrays.copyOfRange(data, fromRow * cols, (fromRow + rows) * cols), rows, cols);
    }

    @ParameterizedTest(name = "group {0}, head_dim {1}, blocks of {2}, {3} threads, {4} cache")
    @MethodSource("shapes")
    void everyRowMatchesTheFloat64Reference(int group, int headDim, int blockSize, int threadCount, KvCacheDtype dtype) {
        float[][] out;
        double[][] expected;
        try (Fixture f = new Fixture(group, headDim, blockSize, 1000L * group + 10L * headDim + blockSize, dtype);  // thread-independent
             CpuThreads threads = new CpuThreads(threadCount)) {
            out = f.attend(threads);
            expected = REFERENCES.computeIfAbsent(List.of(group, headDim, blockSize, dtype.ordinal()), key -> f.reference());
        }
        double worst = 0;
        for (int s = 0; s < SEQUENCES.size(); s++) {
            for (int e = 0; e < expected[s].length; e++) {
                double error = Math.abs(out[s][e] - expected[s][e]);
                if (!(error <= worst)) worst = error;  // NaN (an unwritten output) sticks
            }
        }
        // FP32 scores of the sharp rows (|s| up to ~20) carry ~1e-6 relative error into exp: measured worst 3-8e-6.
        // Values are N(0, 1): one key too many or too few among 3000 moves an output by ~3e-4
        assertThat(worst).as("max |out - float64 reference|").isLessThan(2e-5);
    }

    static Stream<Arguments> shapesWithoutThreads() {
        return shapes().filter(a -> (int) a.get()[3] == 2)
                .map(a -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], a.get()[4]));
    }

    @ParameterizedTest(name = "group {0}, head_dim {1}, blocks of {2}, {3} cache")
    @MethodSource("shapesWithoutThreads")
    void outputsAreBitwiseTheSameAloneInAnyBatchChunkingAndThreadCount(int group, int headDim, int blockSize,
                                                                       KvCacheDtype dtype) {
        try (Fixture f = new Fixture(group, headDim, blockSize, 77L * group + headDim + blockSize, dtype)) {
            assertBitwiseTheSameHoweverSplit(f, headDim);
        }
    }

    private static void assertBitwiseTheSameHoweverSplit(Fixture f, int headDim) {
        float[][] batched;
        try (CpuThreads one = new CpuThreads(1)) {
            batched = f.attend(one);
        }
        for (int threadCount = 1; threadCount <= 3; threadCount++) {
            try (CpuThreads threads = new CpuThreads(threadCount)) {
                float[][] reordered = f.attend(threads, new int[] {4, 0, 2}, new int[] {2, 0, 70}, new int[] {1, 0, 1},
                        new int[] {3, 0, 1}, new int[] {0, 0, 37});
                int[] order = {4, 2, 1, 3, 0};
                for (int m = 0; m < order.length; m++) {
                    assertThat(reordered[m]).as("sequence %d in another batch order, %d threads", order[m], threadCount)
                            .containsExactly(batched[order[m]]);
                }
                for (int s = 0; s < SEQUENCES.size(); s++) {
                    int[] whole = {s, 0, SEQUENCES.get(s).length()};
                    assertThat(f.attend(threads, whole)[0]).as("sequence %d alone, %d threads", s, threadCount)
                            .containsExactly(batched[s]);
                }
                // the chunked prefill cut into two steps of 20 and 17 tokens, the first beside the long decode
                float[] first = f.attend(threads, new int[] {1, 0, 1}, new int[] {0, 0, 20})[1];
                float[] second = f.attend(threads, new int[] {0, 20, 17})[0];
                int split = 20 * f.heads * headDim;
                assertThat(first).as("tokens 0-19 of the chunked prefill, %d threads", threadCount)
                        .containsExactly(Arrays.copyOfRange(batched[0], 0, split));
                assertThat(second).as("tokens 20-36 of the chunked prefill, %d threads", threadCount)
                        .containsExactly(Arrays.copyOfRange(batched[0], split, batched[0].length));
            }
        }
    }

    /** A BF16 cache reads exactly the values an F32 cache of the rounded K/V holds: the outputs are bitwise equal. */
    @ParameterizedTest(name = "blocks of {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 16})
    void aBf16CacheGivesTheOutputsOfAnF32CacheOfTheRoundedKeysAndValues(int blockSize) {
        try (Fixture bf16 = new Fixture(4, 128, blockSize, 11, KvCacheDtype.BF16, false);
             Fixture rounded = new Fixture(4, 128, blockSize, 11, KvCacheDtype.F32, true);
             Fixture unrounded = new Fixture(4, 128, blockSize, 11, KvCacheDtype.F32, false);
             CpuThreads threads = new CpuThreads(2)) {
            float[][] fromBf16 = bf16.attend(threads), fromRounded = rounded.attend(threads);
            float[][] fromUnrounded = unrounded.attend(threads);
            for (int s = 0; s < SEQUENCES.size(); s++) {
                assertThat(fromBf16[s]).as("sequence %d", s).containsExactly(fromRounded[s]);
                assertThat(fromBf16[s]).as("sequence %d: as the unrounded cache's", s).isNotEqualTo(fromUnrounded[s]);
            }
        }
    }

    /**
     * Once compiled, a decode step's attention allocates nothing (one thread: no pool hand-off): scratch and plan are
     * reused, and no vector is boxed on the way. Rounds of calls run until one allocates nothing (the JIT needs a few).
     */
    @ParameterizedTest(name = "blocks of {0}, {1} cache")
    @org.junit.jupiter.params.provider.CsvSource({"1, F32", "16, F32", "16, BF16"})
    void aCompiledDecodeStepAllocatesNothing(int blockSize, KvCacheDtype dtype) {
        try (Fixture f = new Fixture(4, 64, blockSize, 5, dtype)) {
            assertDecodeAllocatesNothing(f, blockSize);
        }
    }

    private static void assertDecodeAllocatesNothing(Fixture f, int blockSize) {
        int heads = f.heads, width = heads * 64;
        CpuActivation q = slice(f.queries[4], 0, 1, width), out = new CpuActivation(1, width);
        CpuActivation k = slice(f.keys[4], 511, 1, f.kvWidth), v = slice(f.values[4], 511, 1, f.kvWidth);
        var step = new AttentionBatch(List.of(new AttentionBatch.Segment(0, 1, 511, f.tables[4]),
                new AttentionBatch.Segment(0, 1, 511, f.tables[4])));
        try (CpuThreads one = new CpuThreads(1)) {
            CompiledAllocations.assertNone("decode steps", 500, () -> CpuAttention.run(one, q, k, v, f.cache, 1, step, 0.125f, out));
        }
    }
}
