package io.tramontane.backend;

import java.util.List;

/**
 * How the tokens of one forward step map onto sequences: each segment is a run of consecutive batch
 * rows belonging to one sequence, starting at absolute position {@code start}, with the block table
 * of that sequence's KV cache (which already covers positions up to {@code start + length}).
 */
public record AttentionBatch(List<Segment> segments) {

    public AttentionBatch {
        segments = List.copyOf(segments);
    }

    /** Rows {@code [firstRow, firstRow + length)} of the batch; positions {@code [start, start + length)}. */
    public record Segment(int firstRow, int length, int start, int[] blockTable) {}

    public int tokens() {
        int n = 0;
        for (Segment s : segments) n += s.length();
        return n;
    }
}
