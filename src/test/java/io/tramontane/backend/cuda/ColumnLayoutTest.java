package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.model.ModelConfig;
import io.tramontane.model.Shard;
import io.tramontane.model.TestModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Where each rank's columns sit in an all-gathered whole, and the padded width NCCL moves. */
class ColumnLayoutTest {
    @Test
    void partsFollowEachOtherInRankOrder() {
        ColumnLayout layout = ColumnLayout.of(new int[] {3, 4, 3});
        assertThat(layout.offsets()).containsExactly(0, 3, 7, 10);
        assertThat(layout.ranks()).isEqualTo(3);
        assertThat(layout.total()).isEqualTo(10);
        assertThat(layout.stride()).isEqualTo(4);
        assertThat(layout.cols(1)).isEqualTo(4);
    }

    /** The output head's vocabulary shards, as Shard splits them, always make a layout covering the vocabulary. */
    @ParameterizedTest
    @CsvSource({"131072, 8", "32768, 2", "32769, 2", "40, 3", "7, 7"})
    void vocabularyShardsCoverTheVocabulary(int vocab, int ranks) {
        ModelConfig config = TestModels.dense(8 * ranks, 1, ranks, ranks, 8, 16, vocab);
        int[] cols = new int[ranks];
        for (int r = 0; r < ranks; r++) cols[r] = Shard.of(config, r, ranks).vocab();
        ColumnLayout layout = ColumnLayout.of(cols);
        assertThat(layout.total()).isEqualTo(vocab);
        assertThat(layout.stride()).isEqualTo((vocab + ranks - 1) / ranks);
        for (int r = 0; r < ranks; r++) assertThat(layout.offsets()[r]).isEqualTo(Shard.of(config, r, ranks).firstVocab());
    }

    @Test
    void badPartsAreRefused() {
        assertThatThrownBy(() -> ColumnLayout.of(new int[] {3, -1})).hasMessage("rank 1 has -1 columns");
        assertThatThrownBy(() -> new ColumnLayout(new int[] {1, 2})).hasMessageContaining("column offsets [1, 2]");
        assertThatThrownBy(() -> new ColumnLayout(new int[] {0})).hasMessageContaining("column offsets [0]");
    }
}
