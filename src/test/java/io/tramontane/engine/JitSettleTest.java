package io.tramontane.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The warm-up stops once the JIT has been idle long enough, not at the first empty queue, and always at its limit. */
class JitSettleTest {

    /** A JIT that compiles (its total time grows) until step {@code busyUntil}, its queue empty on every other check. */
    private static final class ScriptedProbe implements JitSettle.Probe {
        final int busyUntil;
        final boolean readsQueue;
        int steps;

        ScriptedProbe(int busyUntil, boolean readsQueue) {
            this.busyUntil = busyUntil;
            this.readsQueue = readsQueue;
        }

        @Override
        public Optional<Boolean> idle() {
            return readsQueue ? Optional.of(steps >= busyUntil || steps % 2 == 0) : Optional.empty();
        }

        @Override
        public long compileMillis() {
            return Math.min(steps, busyUntil) * 7L;
        }
    }

    @Test
    void runsTheMinimumThenUntilQuietForLongEnough() {
        ScriptedProbe probe = new ScriptedProbe(40, true);
        long limit = 60_000_000_000L;
        JitSettle.Result r = JitSettle.run(() -> {
            probe.steps++;
            sleepMillis(1);
        }, 5, limit, probe);
        assertThat(r.quiet()).isTrue();
        // compile time last moved at step 40; then QUIET_STEPS quiet steps spanning at least QUIET_NANOS
        assertThat(r.steps()).isGreaterThanOrEqualTo(40 + JitSettle.QUIET_STEPS);
        assertThat(r.seconds()).isGreaterThanOrEqualTo(JitSettle.QUIET_NANOS * 1e-9);
    }

    @Test
    void anEmptyQueueWhileCompileTimeStillMovesIsNotQuiet() {
        ScriptedProbe probe = new ScriptedProbe(Integer.MAX_VALUE, true);  // queue empty every other step, never done
        JitSettle.Result r = JitSettle.run(() -> probe.steps++, 1, 300_000_000L, probe);
        assertThat(r.quiet()).isFalse();
        assertThat(r.seconds()).isGreaterThanOrEqualTo(0.3);
    }

    @Test
    void withoutTheQueueTheCompileTimeDecides() {
        ScriptedProbe probe = new ScriptedProbe(10, false);
        JitSettle.Result r = JitSettle.run(() -> {
            probe.steps++;
            sleepMillis(1);
        }, 1, 60_000_000_000L, probe);
        assertThat(r.quiet()).isTrue();
        assertThat(r.steps()).isGreaterThanOrEqualTo(10 + JitSettle.QUIET_STEPS);
    }

    @Test
    void theMinimumStepsRunEvenWhenTheLimitHasPassed() {
        ScriptedProbe probe = new ScriptedProbe(Integer.MAX_VALUE, true);
        JitSettle.Result r = JitSettle.run(() -> probe.steps++, 25, 0, probe);
        assertThat(r.steps()).isEqualTo(25);
        assertThat(r.quiet()).isFalse();
    }

    @Test
    void readsHotSpotsQueueReport() {
        assertThat(JitSettle.queueIsEmpty("Current compiles: \n\nC1 compile queue:\nEmpty\n\nC2 compile queue:\nEmpty\n")).isTrue();
        assertThat(JitSettle.queueIsEmpty("Current compiles: \n  1234  567    4       io.x.Y::z (120 bytes)\n\nC1 compile queue:\n"
                + "Empty\n\nC2 compile queue:\nEmpty\n")).isFalse();
        assertThat(JitSettle.queueIsEmpty("Current compiles: \n\nC1 compile queue:\nEmpty\n\nC2 compile queue:\n"
                + "  1240  571    4       io.x.Y::w (88 bytes)\n")).isFalse();
        assertThat(JitSettle.HotSpotProbe.INSTANCE.idle()).as("this JVM's queue is readable").isPresent();
        assertThat(JitSettle.compileMillis()).isNotNegative();
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
