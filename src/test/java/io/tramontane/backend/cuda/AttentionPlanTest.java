package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.AttentionBatch.Segment;
import java.util.List;
import org.junit.jupiter.api.Test;

class AttentionPlanTest {
    @Test
    void flattensSegmentsIntoRowsPositionsTablesAndSlots() {
        // a prefill of 3 tokens at 0 (blocks 5, 2) beside a decode at position 5 (blocks 0, 3), block size 4
        AttentionBatch batch = new AttentionBatch(List.of(new Segment(0, 3, 0, new int[] {5, 2}),
                new Segment(3, 1, 5, new int[] {0, 3})));
        AttentionPlan plan = AttentionPlan.of(batch, 4, 6, 4);
        assertThat(plan.items()).isEqualTo(4);
        assertThat(plan.rows()).containsExactly(0, 1, 2, 3);
        assertThat(plan.positions()).containsExactly(0, 1, 2, 5);
        assertThat(plan.tableOffsets()).containsExactly(0, 0, 0, 2);
        assertThat(plan.slots()).containsExactly(20, 21, 22, 3 * 4 + 1);
        assertThat(plan.tableInts()).isEqualTo(4);
        assertThat(plan.packed()).endsWith(5, 2, 0, 3);
    }

    @Test
    void rejectsTablesThatDoNotCoverThePositionsOrLeaveTheCache() {
        assertThatThrownBy(() -> AttentionPlan.of(new AttentionBatch(List.of(new Segment(0, 1, 4, new int[] {0}))), 1, 2, 4))
                .hasMessageContaining("does not cover position 4");
        assertThatThrownBy(() -> AttentionPlan.of(new AttentionBatch(List.of(new Segment(0, 1, 0, new int[] {2}))), 1, 2, 4))
                .hasMessageContaining("outside the cache");
        assertThatThrownBy(() -> AttentionPlan.of(new AttentionBatch(List.of(new Segment(0, 2, 0, new int[] {0}))), 1, 2, 4))
                .hasMessageContaining("outside a batch");
    }
}
