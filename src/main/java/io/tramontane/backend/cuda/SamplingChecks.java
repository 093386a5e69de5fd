package io.tramontane.backend.cuda;

import io.tramontane.backend.Activation;
import io.tramontane.backend.cuda.BackendChecks.Pair;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.TokenDraw;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * CudaBackend's on-device sampling ({@code sample_rows}) against CpuBackend's ({@link TokenDraw}): the ids must be
 * equal, row for row, since both evaluate the same integer-weighted definition. Each batch mixes greedy rows, sampled
 * rows with top-k 1 / 50 / vocab, top-p 0.1 / 0.9 / 1, min-p, temperatures 0.05 to 1.5 and uniform numbers at 0, near
 * 1 and random, over logits with heavy ties and masked (-inf) tokens. The ids go to a NaN-poisoned buffer with a
 * poisoned guard; then {@link CudaBackend#sample} itself must move only the ids (4 bytes a row) to the host.
 */
public final class SamplingChecks {
    /** Tekken's vocabulary and smaller, odd and single-token ones. */
    public static final List<Integer> VOCABS = List.of(1, 7, 32768, 131072);

    /** Rows of logits {@code [draws.size(), vocab]} and the draw of each. */
    public record Batch(String name, int vocab, float[] logits, List<DrawRequest> draws) {
        public int rows() {
            return draws.size();
        }

        @Override
        public String toString() {
            return name + " " + rows() + "x" + vocab;
        }
    }

    private enum Logits { RANDOM, TIES, MASKED }

    private final BackendChecks ops;

    public SamplingChecks(BackendChecks ops) {
        this.ops = ops;
    }

    /** One mixed batch per vocabulary, and one sampled row of the largest (the decode-shaped timing). */
    public List<CheckResult> all() {
        List<CheckResult> results = new ArrayList<>();
        for (int vocab : VOCABS) {
            long seed = BackendChecks.seed();
            results.add(check(mixed(vocab, seed), seed));
        }
        long seed = BackendChecks.seed();
        results.add(check(single(VOCABS.getLast(), seed), seed));
        return results;
    }

    /**
     * Fifteen rows over three kinds of logits: every filter alone and combined, uniform numbers at both ends, ties
     * across top-k and top-p boundaries, a temperature so small that max / temperature overflows.
     */
    public static Batch mixed(int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double nearOne = Math.nextDown(1.0);
        List<Logits> kinds = new ArrayList<>();
        List<DrawRequest> draws = new ArrayList<>();
        add(kinds, draws, Logits.RANDOM, DrawRequest.greedy());
        add(kinds, draws, Logits.TIES, DrawRequest.greedy());
        add(kinds, draws, Logits.RANDOM, new DrawRequest(0.7, 0, 1, 0, random.nextDouble()));
        add(kinds, draws, Logits.RANDOM, new DrawRequest(0.7, 50, 0.9, 0, random.nextDouble()));
        add(kinds, draws, Logits.RANDOM, new DrawRequest(1.5, vocab, 1, 0, 0));
        add(kinds, draws, Logits.RANDOM, new DrawRequest(1.5, 0, 0.9, 0, nearOne));
        add(kinds, draws, Logits.RANDOM, new DrawRequest(0.7, 1, 1, 0, nearOne));
        add(kinds, draws, Logits.RANDOM, new DrawRequest(1.5, 50, 0.1, 0, random.nextDouble()));
        add(kinds, draws, Logits.RANDOM, new DrawRequest(0.05, 0, 1, 0, random.nextDouble()));
        add(kinds, draws, Logits.TIES, new DrawRequest(0.7, 0, 1, 0, nearOne));
        add(kinds, draws, Logits.TIES, new DrawRequest(1.5, 50, 0.9, 0, random.nextDouble()));
        add(kinds, draws, Logits.TIES, new DrawRequest(1, vocab, 0.1, 0, 1e-12));
        add(kinds, draws, Logits.MASKED, new DrawRequest(0.7, 0, 0.9, 0.05, random.nextDouble()));
        add(kinds, draws, Logits.MASKED, new DrawRequest(1.5, 50, 1, 0, 1 - 1e-9));
        add(kinds, draws, Logits.RANDOM, new DrawRequest(Double.MIN_NORMAL, 0, 0.9, 0, random.nextDouble()));
        float[] logits = new float[draws.size() * vocab];
        for (int r = 0; r < draws.size(); r++) fill(kinds.get(r), random, logits, r * vocab, vocab);
        return new Batch("mixed", vocab, logits, List.copyOf(draws));
    }

    /** One row, temperature 1, top-p 0.95: every candidate weighed, the longest path through the kernel. */
    public static Batch single(int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] logits = new float[vocab];
        fill(Logits.RANDOM, random, logits, 0, vocab);
        return new Batch("decode", vocab, logits, List.of(new DrawRequest(1, 0, 0.95, 0, random.nextDouble())));
    }

    private static void add(List<Logits> kinds, List<DrawRequest> draws, Logits kind, DrawRequest draw) {
        kinds.add(kind);
        draws.add(draw);
    }

    /**
     * RANDOM: N(0, 3) with 1% spikes of 10 to 20; TIES: eight values only, so every filter boundary falls inside a
     * run of equal logits; MASKED: RANDOM with three tokens in four at -inf (a grammar mask).
     */
    private static void fill(Logits kind, SplittableRandom random, float[] logits, int from, int vocab) {
        float[] levels = {4f, 3.5f, 3f, 2f, 0f, -0f, -1f, -6f};
        for (int i = 0; i < vocab; i++) {
            float v = random.nextDouble() < 0.01 ? (float) random.nextDouble(10, 20) : (float) random.nextGaussian(0, 3);
            logits[from + i] = switch (kind) {
                case RANDOM -> v;
                case TIES -> levels[random.nextInt(levels.length)];
                case MASKED -> random.nextInt(4) == 0 ? v : Float.NEGATIVE_INFINITY;
            };
        }
    }

    public CheckResult check(Batch batch, long seed) {
        String check = "sample_rows " + batch.name();
        String shape = batch.rows() + "x" + batch.vocab();
        return KernelChecks.attempt(check, shape, seed, () -> {
            CudaBackend cuda = ops.cuda;
            Pair logits = ops.input(batch.logits(), batch.rows(), batch.vocab());
            int[] expected = ops.cpu.sample(logits.cpu(), batch.draws());
            Activation out = cuda.allocate(batch.rows(), 1);
            cuda.poison(out);
            CudaActivation gpuLogits = CudaActivation.of(logits.gpu()), ids = CudaActivation.of(out);
            cuda.enqueueSample(gpuLogits, batch.draws(), ids.data());
            float[] written = BackendChecks.read(cuda, out);
            boolean guardIntact = cuda.guardIntact(out);
            long before = cuda.bytesToHost();
            int[] sampled = cuda.sample(logits.gpu(), batch.draws());
            long moved = cuda.bytesToHost() - before;
            double micros = cuda.timeMicros(() -> cuda.enqueueSample(gpuLogits, batch.draws(), ids.data()));
            return compare(check, shape, seed, expected, written, guardIntact, sampled, moved, micros);
        });
    }

    /** Exact: the fraction of rows whose id differs is the "error", bound 0. */
    static CheckResult compare(String check, String shape, long seed, int[] expected, float[] written, boolean guardIntact,
                               int[] sampled, long movedBytes, double micros) {
        int mismatches = 0;
        String first = "";
        for (int r = 0; r < expected.length; r++) {
            int id = Float.floatToRawIntBits(written[r]);
            if (Float.isNaN(written[r])) {
                return new CheckResult(check, shape, seed, false, Double.NaN, 0, micros, "row " + r + " left unwritten");
            }
            if (id != expected[r] && mismatches++ == 0) first = "row " + r + ": id " + id + " vs " + expected[r] + " on the CPU";
        }
        double error = (double) mismatches / Math.max(1, expected.length);
        String problem = mismatches > 0 ? mismatches + " rows differ, first " + first
                : !guardIntact ? "wrote past the ids"
                : !Arrays.equals(sampled, expected) ? "CudaBackend.sample gave " + Arrays.toString(sampled)
                : movedBytes != 4L * expected.length ? "sample moved " + movedBytes + " bytes to the host, not " + 4L * expected.length
                : null;
        return new CheckResult(check, shape, seed, problem == null, error, 0, micros,
                problem != null ? problem : "ids only: " + movedBytes + " bytes to the host");
    }
}
