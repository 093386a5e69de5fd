package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.TrialPolicy;
import io.tramontane.weights.DType;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The choice between one and two decode rows at a time: which calls it applies to, the trial and its verdict. */
class RowPairsTest {
    private static final int ROWS = 1024, COLS = 1024;

    private static CpuWeight weight(DType dtype) {
        MemorySegment bytes = Arena.ofAuto().allocate((long) ROWS * COLS * dtype.bytes(), 64);
        return CpuWeight.linear(Tensor.of("w", dtype, new long[] {ROWS, COLS}, bytes), 1f, Float.NaN);
    }

    /** Runs AUTO's trial to its verdict, timing each call of a way at {@code nanosPaired} / {@code nanosSingle}. */
    private static int runTrial(RowPairs pairs, CpuWeight w, long nanosPaired, long nanosSingle) {
        int calls = 0;
        while (pairs.decided(w.tensor().dtype()) == null) {
            boolean paired = pairs.pairs(w, 1);
            pairs.timed(w, 1, paired, paired ? nanosPaired : nanosSingle);
            calls++;
            assertThat(calls).as("the trial ends").isLessThan(4 * (RowPairs.WARM_CALLS + RowPairs.MAX_TIMED_CALLS));
        }
        return calls;
    }

    @ParameterizedTest(name = "{0}: paired {1} ns, single {2} ns -> {3}")
    @CsvSource({"BF16,800,1000,true", "BF16,1000,800,false", "F32,900,1000,true", "F32,1200,1000,false"})
    void autoKeepsTheWayThatStreamedFaster(DType dtype, long nanosPaired, long nanosSingle, boolean expected) {
        RowPairs pairs = new RowPairs(TrialPolicy.AUTO);
        CpuWeight w = weight(dtype);
        int calls = runTrial(pairs, w, nanosPaired, nanosSingle);
        assertThat(pairs.decided(dtype)).isEqualTo(expected);
        assertThat(pairs.pairs(w, 1)).isEqualTo(expected);
        assertThat(pairs.pairs(w, 3)).as("two or three tokens follow the verdict").isEqualTo(expected);
        // 2 MiB (F32: 4 MiB) a call: each way times calls until it has TIMED_BYTES (and at least TIMED_CALLS)
        long bytesPerCall = (long) ROWS * COLS * dtype.bytes();
        long timed = Math.min(RowPairs.MAX_TIMED_CALLS, Math.max(RowPairs.TIMED_CALLS, (RowPairs.TIMED_BYTES + bytesPerCall - 1) / bytesPerCall));
        assertThat(calls).as("single and paired calls alternate until each way has its timed calls").isEqualTo((int) (2 * (RowPairs.WARM_CALLS + timed)));
    }

    @Test
    void autoAlternatesTheWaysCallByCallAndKeepsSingleRowsForSeveralTokensUntilDecided() {
        RowPairs pairs = new RowPairs(TrialPolicy.AUTO);
        CpuWeight w = weight(DType.BF16);
        boolean previous = pairs.pairs(w, 1);
        assertThat(previous).as("the first call, before any timing").isFalse();
        for (int i = 0; i < 10; i++) {
            pairs.timed(w, 1, previous, 1000);
            assertThat(pairs.pairs(w, 2)).as("two tokens while undecided").isFalse();
            boolean next = pairs.pairs(w, 1);
            assertThat(next).isNotEqualTo(previous);
            previous = next;
        }
        assertThat(pairs.decided(DType.BF16)).isNull();
    }

    @Test
    void warmCallsAreNotCounted() {
        RowPairs pairs = new RowPairs(TrialPolicy.AUTO);
        CpuWeight w = weight(DType.BF16);
        // the first WARM_CALLS of each way are slow for pairs (say, C2 has not compiled them yet), then pairs are faster
        for (int i = 0; i < 2 * RowPairs.WARM_CALLS; i++) {
            boolean paired = pairs.pairs(w, 1);
            pairs.timed(w, 1, paired, paired ? 1_000_000_000 : 1000);
        }
        runTrial(pairs, w, 900, 1000);
        assertThat(pairs.decided(DType.BF16)).isTrue();
    }

    @Test
    void onlyDecodeShapedStoredBf16AndF32RowsArePaired() {
        assertThat(RowPairs.applies(weight(DType.BF16), 1)).isTrue();
        assertThat(RowPairs.applies(weight(DType.F32), 3)).isTrue();
        assertThat(RowPairs.applies(weight(DType.BF16), 4)).as("prefill tiles").isFalse();
        assertThat(RowPairs.applies(weight(DType.F8_E4M3), 1)).as("e4m3: bound by the widening").isFalse();
        RowPairs on = new RowPairs(TrialPolicy.ON), off = new RowPairs(TrialPolicy.OFF);
        assertThat(on.pairs(weight(DType.BF16), 1)).isTrue();
        assertThat(on.pairs(weight(DType.F8_E4M3), 1)).isFalse();
        assertThat(off.pairs(weight(DType.BF16), 1)).isFalse();
    }

    @Test
    void policyParsesTheEnvironmentValueAndNamesTheVariableWhenItCannot() {
        assertThat(TrialPolicy.parse(RowPairs.VARIABLE, null)).isEqualTo(TrialPolicy.AUTO);
        assertThat(TrialPolicy.parse(RowPairs.VARIABLE, " ON ")).isEqualTo(TrialPolicy.ON);
        assertThat(TrialPolicy.parse(RowPairs.VARIABLE, "0")).isEqualTo(TrialPolicy.OFF);
        assertThatThrownBy(() -> TrialPolicy.parse(RowPairs.VARIABLE, "twice")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TRAMONTANE_CPU_ROW_PAIRS").hasMessageContaining("twice");
    }
}
