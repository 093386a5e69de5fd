package io.tramontane.backend.cuda;

import io.tramontane.backend.AttentionBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The host side of one attention call, checked and flattened into the int records the kernels read
 * (cuda-kernels/attention_core.cuh), uploaded in one copy as {@link #packed()}, section after section:
 * <ul>
 *   <li>{@code rows}, {@code slots}: per work item (a batch row covered by a segment) its batch row and the pool row
 *       its k/v are stored in (kv_store);</li>
 *   <li>{@link Kind#GENERIC} only: {@code positions}, {@code tableOffsets} per item (the generic kernel runs one CTA
 *       per query head and item);</li>
 *   <li>{@link Kind#TILED} only: prefill tiles {@code {firstRow, firstPosition, rows, tableOffset}}: the rows of
 *       segments of at least {@link #PREFILL_MIN_ROWS} rows in Q tiles of {@link Tiling#tileRows()}, the tiles with
 *       the most keys first (they run longest); decode units {@code {row, tableOffset, firstKey, endKey, slot}}: each
 *       row of a shorter segment over its whole context (slot -1) or, when there are too few (row, kv head) CTAs to
 *       fill the device, over partitions of about {@link #partitionKeys} keys (slot: where its partial result goes);
 *       and reduce items {@code {row, firstSlot, partitions}} for the split rows;</li>
 *   <li>{@code tables}: every segment's block table, concatenated; tableOffsets are relative to this section.</li>
 * </ul>
 */
record AttentionPlan(Kind kind, int items, int tiles, int units, int reduceItems, int partialSlots, int[] packed) {
    enum Kind { GENERIC, TILED }

    static final int TILE_INTS = 4, UNIT_INTS = 5, REDUCE_INTS = 3;
    /** Keys per K/V stage of the tensor-core kernels: a partition is a whole number of them. */
    static final int KEY_TILE = 64;
    /** Segments shorter than this are attended row by row by the decode kernel (a Q tile would be mostly padding). */
    static final int PREFILL_MIN_ROWS = 16;
    /** The smallest partition: two stages, so a split CTA still overlaps loading with computing. */
    static final int MIN_PARTITION_KEYS = 2 * KEY_TILE;

    /**
     * How the tensor-core kernels cut the work.
     *
     * @param tileRows   query rows per prefill CTA
     * @param ctasPerRow decode CTAs per query row without a split: kv heads x slices of 16 query heads
     * @param targetCtas decode CTAs that fill the device; fewer unsplit ones make the plan split contexts
     */
    record Tiling(int tileRows, int ctasPerRow, int targetCtas) {}

    /** Work items, positions and tables for kv_store and the generic kernel. */
    static AttentionPlan generic(AttentionBatch batch, int batchRows, int blocks, int blockSize) {
        int items = check(batch, batchRows, blocks, blockSize);
        int[] packed = new int[4 * items + tableInts(batch)];
        int item = 0, tableOffset = 0;
        for (AttentionBatch.Segment s : batch.segments()) {
            for (int i = 0; i < s.length(); i++, item++) {
                int position = s.start() + i;
                packed[item] = s.firstRow() + i;
                packed[items + item] = slot(s.blockTable(), position, blockSize);
                packed[2 * items + item] = position;
                packed[3 * items + item] = tableOffset;
            }
            System.arraycopy(s.blockTable(), 0, packed, 4 * items + tableOffset, s.blockTable().length);
            tableOffset += s.blockTable().length;
        }
        return new AttentionPlan(Kind.GENERIC, items, 0, 0, 0, 0, packed);
    }

    /** Work items for kv_store, prefill tiles, decode units and reduce items for the tensor-core kernels. */
    static AttentionPlan tiled(AttentionBatch batch, int batchRows, int blocks, int blockSize, Tiling tiling) {
        if (tiling.tileRows() < 1 || tiling.ctasPerRow() < 1 || tiling.targetCtas() < 1) {
            throw new IllegalArgumentException("tiling " + tiling);
        }
        int items = check(batch, batchRows, blocks, blockSize);
        List<int[]> tiles = new ArrayList<>(), decodeRows = new ArrayList<>();  // decode row: {row, position, table}
        int[] store = new int[2 * items];
        int item = 0, tableOffset = 0;
        long decodeKeys = 0;
        for (AttentionBatch.Segment s : batch.segments()) {
            for (int i = 0; i < s.length(); i++, item++) {
                store[item] = s.firstRow() + i;
                store[items + item] = slot(s.blockTable(), s.start() + i, blockSize);
            }
            if (s.length() >= PREFILL_MIN_ROWS) {
                for (int r = 0; r < s.length(); r += tiling.tileRows()) {
                    tiles.add(new int[] {s.firstRow() + r, s.start() + r, Math.min(tiling.tileRows(), s.length() - r), tableOffset});
                }
            } else {
                for (int i = 0; i < s.length(); i++) {
                    decodeRows.add(new int[] {s.firstRow() + i, s.start() + i, tableOffset});
                    decodeKeys += s.start() + i + 1;
                }
            }
            tableOffset += s.blockTable().length;
        }
        tiles.sort(Comparator.comparingInt((int[] t) -> t[1] + t[2]).reversed());  // keys of the tile's last row
        int partition = partitionKeys(decodeKeys, decodeRows.size(), tiling.ctasPerRow(), tiling.targetCtas());
        List<int[]> units = new ArrayList<>(), reduce = new ArrayList<>();
        int slots = 0;
        for (int[] d : decodeRows) {
            int keys = d[1] + 1;
            if (keys <= partition) {
                units.add(new int[] {d[0], d[2], 0, keys, -1});
                continue;
            }
            // as many partitions as `partition` asks for, evened out (in whole stages) so the last is not a sliver
            int parts = ceilDiv(keys, partition), size = ceilDiv(ceilDiv(keys, parts), KEY_TILE) * KEY_TILE;
            parts = ceilDiv(keys, size);
            reduce.add(new int[] {d[0], slots, parts});
            for (int p = 0; p < parts; p++) {
                units.add(new int[] {d[0], d[2], p * size, Math.min(keys, (p + 1) * size), slots + p});
            }
            slots += parts;
        }
        int[] packed = new int[2 * items + TILE_INTS * tiles.size() + UNIT_INTS * units.size()
                + REDUCE_INTS * reduce.size() + tableInts(batch)];
        System.arraycopy(store, 0, packed, 0, store.length);
        int at = store.length;
        for (List<int[]> records : List.of(tiles, units, reduce)) {
            for (int[] r : records) {
                System.arraycopy(r, 0, packed, at, r.length);
                at += r.length;
            }
        }
        for (AttentionBatch.Segment s : batch.segments()) {
            System.arraycopy(s.blockTable(), 0, packed, at, s.blockTable().length);
            at += s.blockTable().length;
        }
        return new AttentionPlan(Kind.TILED, items, tiles.size(), units.size(), reduce.size(), slots, packed);
    }

    /**
     * Keys per decode partition: unsplit ({@code Integer.MAX_VALUE}) when the rows alone give {@code targetCtas};
     * otherwise the decode keys spread evenly over about {@code targetCtas} CTAs, in whole stages, at least
     * {@link #MIN_PARTITION_KEYS}.
     */
    static int partitionKeys(long keys, int rows, int ctasPerRow, int targetCtas) {
        if ((long) rows * ctasPerRow >= targetCtas) return Integer.MAX_VALUE;
        long perCta = (keys * ctasPerRow + targetCtas - 1) / targetCtas;
        long whole = (perCta + KEY_TILE - 1) / KEY_TILE * KEY_TILE;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(MIN_PARTITION_KEYS, whole));
    }

    private static int ceilDiv(int a, int b) {
        return (int) (((long) a + b - 1) / b);
    }

    private static int check(AttentionBatch batch, int batchRows, int blocks, int blockSize) {
        int items = 0;
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
            items += s.length();
        }
        return items;
    }

    private static int tableInts(AttentionBatch batch) {
        int n = 0;
        for (AttentionBatch.Segment s : batch.segments()) n += s.blockTable().length;
        return n;
    }

    private static int slot(int[] table, int position, int blockSize) {
        return table[position / blockSize] * blockSize + position % blockSize;
    }

    // ---- where each section starts in packed (ints)

    int slotsStart() {
        return items;
    }

    int positionsStart() {
        return 2 * items;
    }

    int tableOffsetsStart() {
        return 3 * items;
    }

    int tilesStart() {
        return kind == Kind.GENERIC ? 4 * items : 2 * items;
    }

    int unitsStart() {
        return tilesStart() + TILE_INTS * tiles;
    }

    int reduceStart() {
        return unitsStart() + UNIT_INTS * units;
    }

    int tablesStart() {
        return reduceStart() + REDUCE_INTS * reduceItems;
    }

    // ---- the sections, for tests and messages

    int[] rows() {
        return Arrays.copyOfRange(packed, 0, items);
    }

    int[] slots() {
        return Arrays.copyOfRange(packed, slotsStart(), slotsStart() + items);
    }

    int[] positions() {
        requireKind(Kind.GENERIC);
        return Arrays.copyOfRange(packed, positionsStart(), positionsStart() + items);
    }

    int[] tableOffsets() {
        requireKind(Kind.GENERIC);
        return Arrays.copyOfRange(packed, tableOffsetsStart(), tableOffsetsStart() + items);
    }

    int[] tile(int i) {
        return Arrays.copyOfRange(packed, tilesStart() + TILE_INTS * i, tilesStart() + TILE_INTS * (i + 1));
    }

    int[] unit(int i) {
        return Arrays.copyOfRange(packed, unitsStart() + UNIT_INTS * i, unitsStart() + UNIT_INTS * (i + 1));
    }

    int[] reduceItem(int i) {
        return Arrays.copyOfRange(packed, reduceStart() + REDUCE_INTS * i, reduceStart() + REDUCE_INTS * (i + 1));
    }

    int tableInts() {
        return packed.length - tablesStart();
    }

    private void requireKind(Kind expected) {
        if (kind != expected) throw new IllegalStateException("a " + kind + " plan has no such section");
    }
}
