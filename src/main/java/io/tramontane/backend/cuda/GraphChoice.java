package io.tramontane.backend.cuda;

import io.tramontane.backend.TrialPolicy;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a decode-sized step runs as a CUDA graph. Capturing a step is host work the GPU waits for, where kernel by
 * kernel the host enqueues while the GPU runs, so graphs pay only where launch gaps outweigh that: on an H200 they cost
 * a 40-layer Devstral Small decode 9% and gave an 8-layer model 0.97-1.65x (docs/gpu-log.md). {@link TrialPolicy#AUTO}
 * therefore times whole steps of each size (one step's start to the next's: host work, launches, the GPU and the wait
 * for its results) the first {@value #TRIAL} times kernel by kernel and the next {@value #TRIAL} as graphs, then keeps
 * the mode whose median step was shorter. A period that spans a step of another size is not counted; too few periods
 * leave graphs on. Both modes give the same bits (the GPU check compares them), so switching changes only the time.
 */
final class GraphChoice {
    static final int TRIAL = 5;
    private static final Logger log = LoggerFactory.getLogger(GraphChoice.class);

    private final TrialPolicy policy;
    private final LongSupplier clock;
    private final Map<Integer, Trial> trials = new HashMap<>();
    private int lastTokens = -1;
    private boolean lastGraph;
    private long lastStart;

    GraphChoice(TrialPolicy policy, LongSupplier clock) {
        this.policy = policy;
        this.clock = clock;
    }

    /** At the start of a decode-sized step of {@code tokens} tokens: whether to capture it. */
    boolean graph(int tokens) {
        long now = clock.getAsLong();
        Trial trial = trials.computeIfAbsent(tokens, Trial::new);
        if (tokens == lastTokens) trial.record(lastGraph, now - lastStart);
        boolean graph = switch (policy) {
            case OFF -> false;
            case ON -> true;
            case AUTO -> trial.next();
        };
        lastTokens = tokens;
        lastGraph = graph;
        lastStart = now;
        return graph;
    }

    /** A step that is not decode-sized (or runs with graphs off) starts: the period running now is not a decode step's. */
    void interrupt() {
        lastTokens = -1;
    }

    /** The mode AUTO settled on for steps of {@code tokens}, or null while it is still timing them. */
    Boolean decided(int tokens) {
        Trial trial = trials.get(tokens);
        return trial == null ? null : trial.decided;
    }

    /** The first steps of one size: which mode each runs in, their periods, and the verdict. */
    private static final class Trial {
        final int tokens;
        final long[] eager = new long[TRIAL], graph = new long[TRIAL];
        int eagerCount, graphCount, steps;
        Boolean decided;

        Trial(int tokens) {
            this.tokens = tokens;
        }

        boolean next() {
            if (decided != null) return decided;
            steps++;
            if (steps <= TRIAL) return false;
            if (steps <= 2 * TRIAL) return true;
            decide();
            return decided;
        }

        void record(boolean asGraph, long nanos) {
            if (decided != null) return;
            if (asGraph && graphCount < TRIAL) graph[graphCount++] = nanos;
            if (!asGraph && eagerCount < TRIAL) eager[eagerCount++] = nanos;
        }

        private void decide() {
            if (eagerCount < 2 || graphCount < 2) {
                decided = true;  // steps of this size rarely follow each other: launch gaps are what is left to save
                return;
            }
            double eagerMillis = median(eager, eagerCount) / 1e6, graphMillis = median(graph, graphCount) / 1e6;
            decided = graphMillis < eagerMillis;
            log.info(String.format(Locale.ROOT, "steps of %d token(s): %.3f ms as CUDA graphs, %.3f ms kernel by kernel "
                    + "(medians of %d and %d): %s", tokens, graphMillis, eagerMillis, graphCount, eagerCount,
                    decided ? "graphs" : "kernel by kernel"));
        }

        private static double median(long[] values, int count) {
            long[] sorted = Arrays.copyOf(values, count);
            Arrays.sort(sorted);
            return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0;
        }
    }
}
