package io.tramontane.backend.cuda;

import java.util.Arrays;

/**
 * How the ranks' column parts of an all-gather sit in the whole: rank q's {@code cols[q]} columns start at
 * {@code offsets[q]}; NCCL moves equal-sized buffers, so every part travels padded to {@code stride} columns.
 */
record ColumnLayout(int[] offsets) {
    ColumnLayout {
        if (offsets.length < 2 || offsets[0] != 0) throw new IllegalArgumentException("column offsets " + Arrays.toString(offsets));
        for (int q = 1; q < offsets.length; q++) {
            if (offsets[q] < offsets[q - 1]) throw new IllegalArgumentException("column offsets " + Arrays.toString(offsets));
        }
        offsets = offsets.clone();
    }

    /** The layout of parts of {@code cols[q]} columns in rank order. */
    static ColumnLayout of(int[] cols) {
        int[] offsets = new int[cols.length + 1];
        for (int q = 0; q < cols.length; q++) {
            if (cols[q] < 0) throw new IllegalArgumentException("rank " + q + " has " + cols[q] + " columns");
            offsets[q + 1] = Math.addExact(offsets[q], cols[q]);
        }
        return new ColumnLayout(offsets);
    }

    int ranks() {
        return offsets.length - 1;
    }

    int cols(int rank) {
        return offsets[rank + 1] - offsets[rank];
    }

    int total() {
        return offsets[ranks()];
    }

    /** The widest part: what every rank sends. */
    int stride() {
        int widest = 0;
        for (int q = 0; q < ranks(); q++) widest = Math.max(widest, cols(q));
        return widest;
    }

    @Override
    public int[] offsets() {
        return offsets.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ColumnLayout other && Arrays.equals(offsets, other.offsets);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(offsets);
    }

    @Override
    public String toString() {
        return "ColumnLayout" + Arrays.toString(offsets);
    }
}
