package io.tramontane.backend.cuda;

import io.tramontane.backend.AttentionBatch;
import java.util.Arrays;

/**
 * The host side of one attention call, checked and flattened for the kernels: for each work item (a batch row
 * covered by a segment) its row, position, pool row ({@code slot}, where its k/v go) and the offset of its
 * sequence's block table in {@code tables} (all segments' tables, concatenated). {@link #packed()} is what is
 * uploaded, in one copy: {@code [rows | positions | tableOffsets | slots | tables]}.
 */
record AttentionPlan(int items, int[] packed) {

    static AttentionPlan of(AttentionBatch batch, int batchRows, int blocks, int blockSize) {
        int items = 0, tableInts = 0;
        for (AttentionBatch.Segment s : batch.segments()) {
            items += s.length();
            tableInts += s.blockTable().length;
        }
        int[] packed = new int[4 * items + tableInts];
        int item = 0, tableOffset = 4 * items;
        for (AttentionBatch.Segment s : batch.segments()) {
            int[] table = s.blockTable();
            int end = s.start() + s.length();
            if (s.firstRow() < 0 || s.length() < 0 || s.start() < 0 || s.firstRow() + s.length() > batchRows) {
                throw new IllegalArgumentException("segment rows [" + s.firstRow() + ", +" + s.length() + ") at position "
                        + s.start() + " outside a batch of " + batchRows + " rows");
            }
            if ((long) table.length * blockSize < end) {
                throw new IllegalArgumentException("block table of " + table.length + " blocks of " + blockSize
                        + " does not cover position " + (end - 1));
            }
            for (int i = 0; i * blockSize < end; i++) {
                if (table[i] < 0 || table[i] >= blocks) {
                    throw new IllegalArgumentException("block " + table[i] + " outside the cache's " + blocks + " blocks");
                }
            }
            System.arraycopy(table, 0, packed, tableOffset, table.length);
            for (int i = 0; i < s.length(); i++, item++) {
                int position = s.start() + i;
                packed[item] = s.firstRow() + i;
                packed[items + item] = position;
                packed[2 * items + item] = tableOffset - 4 * items;
                packed[3 * items + item] = table[position / blockSize] * blockSize + position % blockSize;
            }
            tableOffset += table.length;
        }
        return new AttentionPlan(items, packed);
    }

    int tableInts() {
        return packed.length - 4 * items;
    }

    /** The rows of {@link #packed()} of one kind, for tests and messages. */
    int[] rows() {
        return Arrays.copyOfRange(packed, 0, items);
    }

    int[] positions() {
        return Arrays.copyOfRange(packed, items, 2 * items);
    }

    int[] tableOffsets() {
        return Arrays.copyOfRange(packed, 2 * items, 3 * items);
    }

    int[] slots() {
        return Arrays.copyOfRange(packed, 3 * items, 4 * items);
    }
}
