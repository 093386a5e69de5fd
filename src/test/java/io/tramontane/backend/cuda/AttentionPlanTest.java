package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.AttentionBatch.Segment;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class AttentionPlanTest {
    // a prefill of 3 tokens at 0 (blocks 5, 2) beside a decode at position 5 (blocks 0, 3), block size 4
    private static final AttentionBatch SMALL = new AttentionBatch(List.of(new Segment(0, 3, 0, new int[] {5, 2}),
            new Segment(3, 1, 5, new int[] {0, 3})));

    @Test
    void genericFlattensSegmentsIntoRowsSlotsPositionsAndTables() {
        AttentionPlan plan = AttentionPlan.generic(SMALL, 4, 6, 4);
        assertThat(plan.kind()).isEqualTo(AttentionPlan.Kind.GENERIC);
        assertThat(plan.items()).isEqualTo(4);
        assertThat(plan.rows()).containsExactly(0, 1, 2, 3);
        assertThat(plan.slots()).containsExactly(20, 21, 22, 3 * 4 + 1);
        assertThat(plan.positions()).containsExactly(0, 1, 2, 5);
        assertThat(plan.tableOffsets()).containsExactly(0, 0, 0, 2);
        assertThat(plan.tableInts()).isEqualTo(4);
        assertThat(plan.tablesStart()).isEqualTo(16);
        assertThat(plan.packed()).endsWith(5, 2, 0, 3);
        assertThat(plan.tiles() + plan.units() + plan.reduceItems() + plan.partialSlots()).isZero();
    }

    @Test
    void tiledCutsLongSegmentsIntoQueryTilesWithTheMostKeysFirst() {
        // a chunk of 150 rows from position 100 and a prompt of 40 rows: tiles of 64 rows
        int[] tableA = IntStream.range(0, 16).toArray(), tableB = IntStream.range(16, 19).toArray();
        AttentionBatch batch = new AttentionBatch(List.of(new Segment(0, 150, 100, tableA), new Segment(150, 40, 0, tableB)));
        AttentionPlan plan = AttentionPlan.tiled(batch, 190, 19, 16, new AttentionPlan.Tiling(64, 8, 1000));
        assertThat(plan.kind()).isEqualTo(AttentionPlan.Kind.TILED);
        assertThat(plan.items()).isEqualTo(190);
        assertThat(plan.slots()[0]).isEqualTo(tableA[100 / 16] * 16 + 100 % 16);
        assertThat(plan.tiles()).isEqualTo(4);
        // {first row, first position, rows, table offset}, ordered by the tile's last key
        assertThat(plan.tile(0)).containsExactly(128, 228, 22, 0);
        assertThat(plan.tile(1)).containsExactly(64, 164, 64, 0);
        assertThat(plan.tile(2)).containsExactly(0, 100, 64, 0);
        assertThat(plan.tile(3)).containsExactly(150, 0, 40, 16);
        assertThat(plan.units()).isZero();
        assertThat(plan.tablesStart()).isEqualTo(2 * 190 + 4 * 4);
        assertThat(plan.tableInts()).isEqualTo(19);
    }

    @Test
    void shortSegmentsBecomeDecodeRowsOverTheirWholeContextWhenTheDeviceIsFull() {
        // 15 rows (one below a prefill tile's minimum) and a decode, 8 CTAs per row: 16 * 8 >= 100 CTAs, no split
        AttentionBatch batch = new AttentionBatch(List.of(new Segment(0, 15, 40, IntStream.range(0, 4).toArray()),
                new Segment(15, 1, 999, IntStream.range(4, 67).toArray())));
        AttentionPlan plan = AttentionPlan.tiled(batch, 16, 67, 16, new AttentionPlan.Tiling(64, 8, 100));
        assertThat(plan.tiles()).isZero();
        assertThat(plan.units()).isEqualTo(16);
        // {row, table offset, first key, end key, slot}
        assertThat(plan.unit(0)).containsExactly(0, 0, 0, 41, -1);
        assertThat(plan.unit(14)).containsExactly(14, 0, 0, 55, -1);
        assertThat(plan.unit(15)).containsExactly(15, 4, 0, 1000, -1);
        assertThat(plan.reduceItems()).isZero();
        assertThat(plan.partialSlots()).isZero();
    }

    @Test
    void fewDecodeRowsSplitTheirContextsIntoBalancedPartitions() {
        // two decodes (4097 and 100 keys), 8 kv heads, 528 target CTAs: 4197 * 8 / 528 -> 64 keys per CTA, at least 128
        AttentionBatch batch = new AttentionBatch(List.of(new Segment(0, 1, 4096, IntStream.range(0, 257).toArray()),
                new Segment(1, 1, 99, IntStream.range(257, 264).toArray())));
        AttentionPlan plan = AttentionPlan.tiled(batch, 2, 264, 16, new AttentionPlan.Tiling(64, 8, 528));
        // 4097 keys in ceil(4097 / 128) = 33 partitions of 128 (whole stages), the last holding 1; 100 keys unsplit
        assertThat(plan.units()).isEqualTo(33 + 1);
        assertThat(plan.unit(0)).containsExactly(0, 0, 0, 128, 0);
        assertThat(plan.unit(31)).containsExactly(0, 0, 31 * 128, 32 * 128, 31);
        assertThat(plan.unit(32)).containsExactly(0, 0, 32 * 128, 4097, 32);
        assertThat(plan.unit(33)).containsExactly(1, 257, 0, 100, -1);
        assertThat(plan.reduceItems()).isEqualTo(1);
        assertThat(plan.reduceItem(0)).containsExactly(0, 0, 33);
        assertThat(plan.partialSlots()).isEqualTo(33);
    }

    @Test
    void partitionsAreEvenedOutSoTheLastIsNotASliver() {
        // 16 decodes of 4097 keys, 8 CTAs per row, 528 target: 1024-key partitions would leave a last one of 1 key;
        // 5 partitions of 832 (13 stages) leave 769
        int[] table = IntStream.range(0, 257).toArray();
        AttentionBatch batch = new AttentionBatch(IntStream.range(0, 16).mapToObj(r -> new Segment(r, 1, 4096, table)).toList());
        AttentionPlan plan = AttentionPlan.tiled(batch, 16, 257, 16, new AttentionPlan.Tiling(64, 8, 528));
        assertThat(plan.units()).isEqualTo(16 * 5);
        assertThat(plan.unit(3)).containsExactly(0, 0, 3 * 832, 4 * 832, 3);
        assertThat(plan.unit(4)).containsExactly(0, 0, 4 * 832, 4097, 4);
        assertThat(plan.unit(5)).containsExactly(1, 257, 0, 832, 5);  // each segment brings its table
        assertThat(plan.reduceItem(15)).containsExactly(15, 75, 5);
        assertThat(plan.partialSlots()).isEqualTo(80);
    }

    @Test
    void partitionsAreWholeStagesSpreadOverTheTargetAndNoneWhenTheRowsFillIt() {
        assertThat(AttentionPlan.partitionKeys(4097, 1, 8, 528)).isEqualTo(128);  // 63 keys per CTA: the minimum
        assertThat(AttentionPlan.partitionKeys(16 * 4097, 16, 8, 528)).isEqualTo(1024);  // 994 -> 16 stages
        assertThat(AttentionPlan.partitionKeys(100_000, 66, 8, 528)).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void rejectsTablesThatDoNotCoverThePositionsOrLeaveTheCache() {
        assertThatThrownBy(() -> AttentionPlan.generic(new AttentionBatch(List.of(new Segment(0, 1, 4, new int[] {0}))), 1, 2, 4))
                .hasMessageContaining("does not cover position 4");
        assertThatThrownBy(() -> AttentionPlan.generic(new AttentionBatch(List.of(new Segment(0, 1, 0, new int[] {2}))), 1, 2, 4))
                .hasMessageContaining("outside the cache");
        assertThatThrownBy(() -> AttentionPlan.tiled(new AttentionBatch(List.of(new Segment(0, 2, 0, new int[] {0}))), 1, 2, 4,
                new AttentionPlan.Tiling(64, 1, 1))).hasMessageContaining("outside a batch");
    }
}
