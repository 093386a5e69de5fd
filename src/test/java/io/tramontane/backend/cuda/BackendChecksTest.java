package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The comparison every op check ends in (no GPU needed). */
class BackendChecksTest {
    @Test
    void smallElementsAreJudgedAgainstTheRms() {
        float[] reference = {1, -1, 1e-6f, 1};
        CheckResult r = BackendChecks.compare("op", "1x4", 1, new float[] {1, -1, 2e-6f, 1}, reference, true, 1e-5, 0);
        assertThat(r.passed()).isTrue();
        assertThat(r.maxRelativeError()).isLessThan(2e-6);
    }

    @Test
    void failsOnPoisonGuardAndError() {
        float[] reference = {1, 2, 3};
        assertThat(BackendChecks.compare("op", "1x3", 1, new float[] {1, Float.NaN, 3}, reference, true, 1e-5, 0).detail())
                .contains("element 1 is NaN");
        assertThat(BackendChecks.compare("op", "1x3", 1, reference.clone(), reference, false, 1e-5, 0).detail())
                .contains("wrote past");
        CheckResult off = BackendChecks.compare("op", "1x3", 1, new float[] {1, 2, 3.01f}, reference, true, 1e-5, 0);
        assertThat(off.passed()).isFalse();
        assertThat(off.detail()).startsWith("element 2");
    }

    @Test
    void activationsComeInPowerOfTwoClassesWithAGuard() {
        assertThat(ActivationPool.sizeClass(1)).isEqualTo(512);
        assertThat(ActivationPool.sizeClass(4096 + ActivationPool.GUARD_BYTES)).isEqualTo(8192);
        assertThat(ActivationPool.sizeClass(8192)).isEqualTo(8192);
    }
}
