package io.tramontane.engine;

import io.tramontane.model.LanguageModel;
import io.tramontane.model.Step;
import io.tramontane.weights.SafetensorsFile;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.stream.IntStream;

/**
 * A lossy variant against a golden case's float64 reference, teacher-forced as the golden README prescribes: each
 * prompt's logits from one prefill, then every reference greedy id fed back through the KV cache. The RMS and max of
 * |diff| over all compared logits, and the argmax at every step whose reference margin (top-1 minus top-2) is at
 * least {@link #MARGIN}.
 */
public final class TeacherForced {
    public static final double MARGIN = 0.5;

    /** The logit error of one case against its reference. */
    public record Error(double rms, double maxAbs, double referenceRms, int rows, int marginSteps, int marginMisses) {
        public double relativeRms() {
            return rms / referenceRms;
        }
    }

    private TeacherForced() {}

    /** {@code model} (built with GoldenChecks.BLOCKS blocks of GoldenChecks.BLOCK) on every prompt of {@code caseDir}. */
    public static Error measure(LanguageModel model, Path caseDir) {
        Sums sums = new Sums();
        int marginSteps = 0, marginMisses = 0;
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile expected = SafetensorsFile.open(caseDir.resolve("expected.safetensors"), arena);
            int[] blockTable = IntStream.range(0, GoldenChecks.BLOCKS).toArray();
            for (int p = 0; expected.contains("p" + p + ".tokens"); p++) {
                String prefix = "p" + p + ".";
                int[] tokens = GoldenChecks.ints(expected.tensor(prefix + "tokens"));
                int[] rows = GoldenChecks.ints(expected.tensor(prefix + "rows"));
                int[] greedy = GoldenChecks.ints(expected.tensor(prefix + "greedy_ids"));
                sums.add(model.forward(Step.ofSequence(tokens, 0, blockTable, rows)), expected.tensor(prefix + "logits"));
                float[][] steps = new float[greedy.length][];
                steps[0] = model.forward(Step.ofSequence(tokens, 0, blockTable, tokens.length - 1))[0];
                for (int j = 1; j < greedy.length; j++) {  // the reference's ids, whatever we would pick
                    steps[j] = model.forward(Step.ofSequence(new int[] {greedy[j - 1]}, tokens.length + j - 1, blockTable, 0))[0];
                }
                sums.add(steps, expected.tensor(prefix + "greedy_logits"));
                Tensor margins = expected.tensor(prefix + "greedy_margin");
                for (int j = 0; j < greedy.length; j++) {
                    if (margins.get(j) < MARGIN) continue;
                    marginSteps++;
                    if (GoldenChecks.argmax(steps[j]) != greedy[j]) marginMisses++;
                }
            }
        }
        return new Error(Math.sqrt(sums.error / sums.count), sums.max, Math.sqrt(sums.reference / sums.count), sums.rows,
                marginSteps, marginMisses);
    }

    /** Sums of squared errors and references over the rows compared so far. */
    private static final class Sums {
        double error, reference, max;
        long count;
        int rows;

        void add(float[][] actual, Tensor expected) {
            for (int row = 0; row < actual.length; row++, rows++) {
                for (int v = 0; v < actual[row].length; v++, count++) {
                    double ref = expected.get(row, v), diff = actual[row][v] - ref;
                    error += diff * diff;
                    reference += ref * ref;
                    max = Math.max(max, Math.abs(diff));
                }
            }
        }
    }
}
