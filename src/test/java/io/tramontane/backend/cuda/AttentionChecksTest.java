package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.AttentionBatch.Segment;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.cuda.AttentionChecks.Errors;
import io.tramontane.backend.cuda.AttentionChecks.Scenario;
import io.tramontane.weights.Floats;
import io.tramontane.weights.KvCacheScales;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The attention checks' scenarios and verdicts (no GPU needed). */
class AttentionChecksTest {
    @Test
    void eachElementIsJudgedOnTheScaleOfItsOwnHead() {
        // two heads of 4: a large one and a small one; an error of 1e-3 is 0.1% of the first, 10% of the second
        float[] reference = {1, -1, 1, -1, 0.01f, -0.01f, 0.01f, -0.01f};
        float[] close = reference.clone();
        close[0] += 1e-3f;
        Errors first = new Errors();
        assertThat(first.add(close, reference, 4)).isNull();
        assertThat(first.max()).isCloseTo(1e-3, offset(1e-6));
        float[] far = reference.clone();
        far[4] += 1e-3f;
        Errors second = new Errors();
        second.add(far, reference, 4);
        assertThat(second.max()).isCloseTo(0.1, offset(1e-4));
        assertThat(second.rms()).isCloseTo(0.1 / Math.sqrt(8), offset(1e-4));
    }

    @Test
    void bf16CachesFailOnTheMaxOrOnTheRmsAndNaNFailsOutright() {
        float[] reference = new float[1000];
        Arrays.fill(reference, 1f);
        float[] spread = reference.clone();
        for (int i = 0; i < spread.length; i++) spread[i] += (i % 2 == 0 ? 6e-3f : -6e-3f);  // rms 6e-3, max 6e-3
        Errors wide = new Errors();
        wide.add(spread, reference, 100);
        CheckResult result = wide.result("attention", "s", 1, KvCacheDtype.BF16, 1, "");
        assertThat(result.passed()).isFalse();
        assertThat(result.detail()).startsWith("rms 6.0e-03 (bound 5e-03); worst element");
        assertThat(wide.result("attention", "s", 1, KvCacheDtype.F32, 1, "").passed()).isFalse();

        float[] spike = reference.clone();
        spike[7] = 1.03f;  // one element beyond the max bound, the rms well within
        Errors one = new Errors();
        one.add(spike, reference, 100);
        assertThat(one.result("attention", "s", 1, KvCacheDtype.BF16, 1, "").passed()).isFalse();
        spike[7] = 1.02f;
        Errors fine = new Errors();
        fine.add(spike, reference, 100);
        assertThat(fine.result("attention", "s", 1, KvCacheDtype.BF16, 1, "note").detail()).endsWith("; note");
        assertThat(fine.result("attention", "s", 1, KvCacheDtype.BF16, 1, "").passed()).isTrue();

        float[] poisoned = reference.clone();
        poisoned[3] = Float.NaN;
        assertThat(new Errors().add(poisoned, reference, 100)).contains("element 3 is NaN");
    }

    @Test
    void fp8CachesAreHeldToE4m3BoundsAndCheckedWithScalesOtherThanOne() {
        float[] reference = new float[1000];
        Arrays.fill(reference, 1f);
        float[] rounded = reference.clone();
        for (int i = 0; i < rounded.length; i++) rounded[i] += (i % 2 == 0 ? 0.03f : -0.03f);  // rms 3e-2: e4m3-sized
        Errors e4m3 = new Errors();
        e4m3.add(rounded, reference, 100);
        assertThat(e4m3.result("attention", "s", 1, KvCacheDtype.FP8_E4M3, 1, "").passed()).isTrue();
        assertThat(e4m3.result("attention", "s", 1, KvCacheDtype.BF16, 1, "").passed()).isFalse();
        float[] coarse = reference.clone();
        for (int i = 0; i < coarse.length; i++) coarse[i] -= 0.1f;  // a lost mantissa bit's worth on every element
        Errors broken = new Errors();
        broken.add(coarse, reference, 100);
        assertThat(broken.result("attention", "s", 1, KvCacheDtype.FP8_E4M3, 1, "").passed()).isFalse();

        KvCacheScales scales = AttentionChecks.checkScales(2);
        assertThat(scales.key(0)).isEqualTo(1f);
        assertThat(scales.key(1)).isEqualTo(AttentionChecks.FP8_KEY_SCALE);
        assertThat(1 / AttentionChecks.FP8_KEY_SCALE).as("inputs in [-1, 1] stay inside e4m3's 448").isLessThan(448f);
        assertThat(AttentionChecks.SHAPES).anyMatch(s -> s.dtype() == KvCacheDtype.FP8_E4M3 && s.headDim() == 128);
        assertThat(AttentionChecks.LONG_SHAPES).anyMatch(s -> s.dtype() == KvCacheDtype.FP8_E4M3);
    }

    @Test
    void anFp8CacheIsJudgedOnTheKernelAgainstTheStoredValuesAndOnTheFormatCostByItsRms() {
        float[] reference = new float[600];
        Arrays.fill(reference, 1f);
        float[] nearStored = reference.clone(), costly = reference.clone();
        for (int i = 0; i < reference.length; i++) {
            nearStored[i] += (i % 2 == 0 ? 1e-3f : -1e-3f);
            costly[i] += (i % 2 == 0 ? 0.03f : -0.03f);
        }
        costly[7] = 1.31f;  // one element past FP8_BOUND, as a six-element head produced on an H200: reported, not judged
        Errors kernel = new Errors(), cost = new Errors();
        kernel.add(nearStored, reference, 6);
        cost.add(costly, reference, 6);
        CheckResult result = AttentionChecks.fp8Result("attention", "s", 1, kernel, cost, 1);
        assertThat(cost.max()).isGreaterThan(AttentionChecks.FP8_BOUND);
        assertThat(result.passed()).as("%s", result).isTrue();
        assertThat(result.detail()).contains("vs FP32 cache max 3.1e-01");

        Errors wrongKernel = new Errors();
        wrongKernel.add(costly, reference, 6);  // e4m3-sized error against the stored values: the kernel is off
        assertThat(AttentionChecks.fp8Result("attention", "s", 1, wrongKernel, cost, 1).passed()).isFalse();
        Errors tooCostly = new Errors();
        float[] coarse = reference.clone();
        for (int i = 0; i < coarse.length; i++) coarse[i] -= 0.1f;
        tooCostly.add(coarse, reference, 6);
        assertThat(AttentionChecks.fp8Result("attention", "s", 1, kernel, tooCostly, 1).passed()).isFalse();

        float[] stored = AttentionChecks.storedE4m3(new float[] {1f / 3, -0.9f, 0f}, 1 / 300f);
        assertThat(stored[0]).isEqualTo(Floats.e4m3ToFloat(Floats.floatToE4m3(100f)) / 300f);
        assertThat(stored[1]).isCloseTo(-0.9f, offset(0.9f / 16));
        assertThat(stored[2]).isZero();
    }

    @Test
    void theMixedScenarioCoversChunkedPrefillShortSegmentsAndDecodes() {
        Scenario s = Scenario.mixed(5, new SplittableRandom(1));
        assertThat(s.steps()).hasSize(3);
        List<Segment> second = s.steps().get(1).segments();
        assertThat(second).extracting(Segment::start).containsExactly(37, 150, 0, 0);
        assertThat(second).extracting(Segment::length).containsExactly(1, 77, AttentionPlan.PREFILL_MIN_ROWS - 1,
                AttentionPlan.PREFILL_MIN_ROWS);
        // every block of every table is distinct and inside the pool
        int[] all = second.stream().flatMapToInt(seg -> Arrays.stream(seg.blockTable())).toArray();
        assertThat(all).doesNotHaveDuplicates();
        assertThat(Arrays.stream(all).allMatch(b -> b >= 0 && b < s.blocks())).isTrue();
        for (AttentionBatch step : s.steps()) {
            int rows = step.tokens();
            assertThat(step.segments()).allMatch(seg -> seg.firstRow() + seg.length() <= rows);
            assertThat(step.segments()).allMatch(seg -> seg.blockTable().length * 5 >= seg.start() + seg.length());
        }
    }

    @Test
    void filledScenariosChunkEverySequenceThenDecode() {
        Scenario s = Scenario.filled(3, 1000, 512, true, 16, new SplittableRandom(2));
        assertThat(s.steps()).hasSize(3);
        assertThat(s.steps().get(1).segments()).extracting(Segment::firstRow).containsExactly(0, 488, 976);
        assertThat(s.steps().get(2).segments()).allMatch(seg -> seg.length() == 1 && seg.start() == 1000);
        assertThat(s.steps().get(2).tokens()).isEqualTo(3);
    }

    @Test
    void visibleKeysCountPositionPlusOnePerRow() {
        int[] table = IntStream.range(0, 10).toArray();
        AttentionBatch step = new AttentionBatch(List.of(new Segment(0, 3, 0, table), new Segment(3, 2, 10, table)));
        assertThat(AttentionChecks.visibleKeys(step)).isEqualTo(1 + 2 + 3 + 11 + 12);
    }
}
