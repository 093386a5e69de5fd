package io.tramontane.bench;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.model.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Forward steps for {@code sequences} sequences run together, the way the engine batches them: each
 * sequence is one segment of the step with its own blocks of the KV cache (sequence {@code s} owns
 * blocks {@code [s * blocksPerSequence, (s + 1) * blocksPerSequence)}). Token ids are random: the
 * cost of a step does not depend on them.
 */
public final class SequenceBatch {
    private final int sequences, vocab;
    private final int[][] blockTables;
    private final SplittableRandom random;

    public SequenceBatch(int sequences, int positions, int blockSize, int vocab, long seed) {
        this.sequences = sequences;
        this.vocab = vocab;
        this.random = new SplittableRandom(seed);
        int blocksPerSequence = blocksFor(positions, blockSize);
        blockTables = new int[sequences][blocksPerSequence];
        for (int s = 0; s < sequences; s++) {
            for (int b = 0; b < blocksPerSequence; b++) blockTables[s][b] = s * blocksPerSequence + b;
        }
    }

    /** KV blocks for {@code sequences} sequences of up to {@code positions} positions each. */
    public static int blocksNeeded(int sequences, int positions, int blockSize) {
        return sequences * blocksFor(positions, blockSize);
    }

    private static int blocksFor(int positions, int blockSize) {
        return Math.max(1, (positions + blockSize - 1) / blockSize);
    }

    /** One new token per sequence at {@code position}, logits for all of them. */
    public Step decode(int position) {
        return chunk(position, 1);
    }

    /** The first {@code length} tokens of every sequence, logits for each sequence's last one. */
    public Step prefill(int length) {
        return chunk(0, length);
    }

    /** Positions {@code [start, start + length)} of every sequence, logits for each sequence's last one. */
    public Step chunk(int start, int length) {
        int rows = sequences * length;
        int[] tokens = new int[rows], positions = new int[rows], logitRows = new int[sequences];
        List<AttentionBatch.Segment> segments = new ArrayList<>(sequences);
        for (int s = 0; s < sequences; s++) {
            int first = s * length;
            for (int i = 0; i < length; i++) {
                tokens[first + i] = random.nextInt(vocab);
                positions[first + i] = start + i;
            }
            segments.add(new AttentionBatch.Segment(first, length, start, blockTables[s]));
            logitRows[s] = first + length - 1;
        }
        return new Step(tokens, positions, new AttentionBatch(segments), logitRows);
    }
}
