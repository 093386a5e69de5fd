package io.tramontane.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.KvCacheDtype;
import io.tramontane.model.ModelConfig;
import io.tramontane.model.TestModels;
import org.junit.jupiter.api.Test;

/** KV-cache sizing: the CPU host default, the CUDA device default, explicit budgets and the cap. */
class KvCacheBudgetTest {
    /** Devstral Small 2's attention: 40 layers, 8 kv heads of 128. */
    private static final ModelConfig DEVSTRAL_SMALL = TestModels.dense(5120, 40, 32, 8, 128, 32768, 131072);

    @Test
    void cudaBlocksHoldBf16KeysAndValuesOfTheRanksKvHeads() {
        assertThat(KvCacheBudget.deviceBytesPerBlock(DEVSTRAL_SMALL, 1, 16, KvCacheDtype.BF16)).isEqualTo(2L * 40 * 8 * 128 * 16 * 2);
        assertThat(KvCacheBudget.deviceBytesPerBlock(DEVSTRAL_SMALL, 2, 16, KvCacheDtype.BF16)).isEqualTo(2L * 40 * 4 * 128 * 16 * 2);
        // 16 ranks over 8 kv heads: each rank still holds (a replica of) one
        assertThat(KvCacheBudget.deviceBytesPerBlock(DEVSTRAL_SMALL, 16, 16, KvCacheDtype.BF16)).isEqualTo(2L * 40 * 1 * 128 * 16 * 2);
    }

    @Test
    void anFp8CacheCountsOneBytePerElementSoTheSameBudgetHoldsTwiceTheBlocks() {
        assertThat(KvCacheBudget.deviceBytesPerBlock(DEVSTRAL_SMALL, 1, 16, KvCacheDtype.FP8_E4M3)).isEqualTo(2L * 40 * 8 * 128 * 16);
        long bf16PerBlock = KvCacheBudget.deviceBytesPerBlock(DEVSTRAL_SMALL, 1, 16, KvCacheDtype.BF16);
        assertThat(KvCacheBudget.blocks(DEVSTRAL_SMALL, "cuda", 1, 100 * bf16PerBlock, 0, 16, 1000, KvCacheDtype.FP8_E4M3))
                .isEqualTo(200);
    }

    @Test
    void theDeviceDefaultIsWhatNinetyPercentLeavesAfterTheWeights() {
        long h100 = 80L << 30, weights = 25_000_000_000L;
        assertThat(KvCacheBudget.deviceDefault(h100, weights, 1)).isEqualTo((long) (h100 * 0.9) - weights - (3L << 30));
        assertThat(KvCacheBudget.deviceDefault(h100, weights, 2)).isEqualTo((long) (h100 * 0.9) - weights / 2 - (3L << 30));
        assertThat(KvCacheBudget.deviceDefault(24L << 30, weights, 1)).isEqualTo(KvCacheBudget.MINIMUM);
        assertThat(KvCacheBudget.deviceDefault(0, weights, 1)).isEqualTo(KvCacheBudget.MINIMUM);
    }

    @Test
    void anExplicitBudgetIsDividedIntoBlocksAndCappedAtWhatSequencesCanUse() {
        long perBlock = KvCacheBudget.deviceBytesPerBlock(DEVSTRAL_SMALL, 1, 16, KvCacheDtype.BF16);
        assertThat(KvCacheBudget.blocks(DEVSTRAL_SMALL, "cuda", 1, 100 * perBlock + 7, 0, 16, 1000, KvCacheDtype.BF16)).isEqualTo(100);
        assertThat(KvCacheBudget.blocks(DEVSTRAL_SMALL, "cuda", 1, 100 * perBlock, 0, 16, 40, KvCacheDtype.BF16)).isEqualTo(40);
        long cpuPerBlock = 2L * 40 * 1024 * 16 * Float.BYTES;  // every kv head of every layer, F32
        assertThat(KvCacheBudget.blocks(DEVSTRAL_SMALL, "cpu", 1, 10 * cpuPerBlock, 0, 16, 1000, KvCacheDtype.F32)).isEqualTo(10);
        assertThat(KvCacheBudget.blocks(DEVSTRAL_SMALL, "cpu", 1, 10 * cpuPerBlock, 0, 16, 1000, KvCacheDtype.BF16)).isEqualTo(20);
        assertThat(KvCacheBudget.blocks(DEVSTRAL_SMALL, "cpu", 1, 1, 0, 16, 1000, KvCacheDtype.BF16)).isEqualTo(1);
    }

    @Test
    void theCpuDefaultIsWhatThreeQuartersOfTheMachineLeaveAfterWeightsAndHeap() {
        long machine = 24L << 30, weights = 1_700_000_000L, heap = 6L << 30;
        assertThat(KvCacheBudget.hostDefault(machine, weights, heap)).isEqualTo((long) (machine * 0.75) - weights - heap);
        assertThat(KvCacheBudget.hostDefault(8L << 30, 5L << 30, 2L << 30)).isEqualTo(KvCacheBudget.MINIMUM);
        assertThat(KvCacheBudget.hostDefault(0, weights, heap)).isEqualTo(KvCacheBudget.MINIMUM);
        long blocks = KvCacheBudget.blocks(DEVSTRAL_SMALL, "cpu", 1, 0, 0, 16, Integer.MAX_VALUE, KvCacheDtype.BF16);
        long perBlock = 2L * 40 * 1024 * 16 * 2;
        assertThat(blocks * perBlock).isGreaterThanOrEqualTo(KvCacheBudget.MINIMUM - perBlock);
    }

    @Test
    void aCpuCacheHoldsAtMostWhatALayersPoolCanIndex() {
        // one layer, one kv head of 16: 2^31 elements are 2^27 blocks of 16 positions; a 64 GiB BF16 budget asks for 2^30
        ModelConfig tiny = TestModels.dense(64, 1, 1, 1, 16, 128, 300);
        long blocks = KvCacheBudget.blocks(tiny, "cpu", 1, 64L << 30, 0, 16, Long.MAX_VALUE, KvCacheDtype.BF16);
        assertThat(blocks).isEqualTo(Integer.MAX_VALUE / (16L * 16));
    }
}
