package io.tramontane.engine;

import java.lang.management.ManagementFactory;
import java.util.Optional;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Runs warm-up steps until the JIT has nothing left to compile. A decode step reaches C2's thresholds within a few
 * steps, but the compiles themselves take seconds of a core (3-4 s for the 0.86B shape's kernels on this 2-vCPU VM),
 * and while they run the step's two threads share one CPU: measured 2026-11-26, q4 decode 47.6 tok/s with 845 ms of
 * compiling inside 64 timed steps after 12 warm-up, 80.2 with 23 ms after 200 (docs/cpu-kernels.md, "The JIT").
 *
 * <p>"Nothing left": HotSpot's compile queues ({@code Compiler.queue}, the diagnostic command {@code jcmd} runs) hold
 * no task and the JIT's accumulated compile time has not moved, for {@link #QUIET_STEPS} steps in a row and at least
 * {@link #QUIET_NANOS}. An empty queue alone is not enough: methods still counting invocations in C1's profiled code
 * reach C2's thresholds later (measured: the queue empty after 20-26 steps, 185-262 ms of compiles in the 32 steps
 * after). Where the queue cannot be read, the compile time alone decides.
 */
public final class JitSettle {
    static final int QUIET_STEPS = 16;
    static final long QUIET_NANOS = 2_000_000_000L;

    /**
     * @param steps   warm-up steps run
     * @param seconds their wall time
     * @param quiet   whether the JIT was idle at the end (false: stopped by the time limit)
     */
    public record Result(int steps, double seconds, boolean quiet) {}

    /** How busy the JIT is now. */
    interface Probe {
        /** True when nothing is being compiled or queued; empty when this JVM cannot tell. */
        Optional<Boolean> idle();

        /** Milliseconds the JIT has spent compiling since start, or -1 if unknown. */
        long compileMillis();
    }

    private JitSettle() {}

    /**
     * Runs {@code step} at least {@code minSteps} times, then until the JIT is idle or {@code limitNanos} have passed
     * since the start (the steps already begun finish).
     */
    public static Result run(Runnable step, int minSteps, long limitNanos) {
        return run(step, minSteps, limitNanos, HotSpotProbe.INSTANCE);
    }

    static Result run(Runnable step, int minSteps, long limitNanos, Probe probe) {
        long start = System.nanoTime(), quietSince = start, lastCompile = probe.compileMillis();
        int steps = 0, quietSteps = 0;
        while (true) {
            step.run();
            steps++;
            long now = System.nanoTime(), compile = probe.compileMillis();
            boolean quiet = compile >= 0 && compile == lastCompile && probe.idle().orElse(true);
            lastCompile = compile;
            if (!quiet) {
                quietSince = now;
                quietSteps = 0;
            } else {
                quietSteps++;
            }
            if (steps >= minSteps && quietSteps >= QUIET_STEPS && now - quietSince >= QUIET_NANOS) {
                return new Result(steps, (now - start) * 1e-9, true);
            }
            if (steps >= minSteps && now - start >= limitNanos) return new Result(steps, (now - start) * 1e-9, false);
        }
    }

    /** The JIT's total compile time so far (ms), or -1 where the JVM does not keep it. */
    public static long compileMillis() {
        return HotSpotProbe.INSTANCE.compileMillis();
    }

    /** HotSpot's {@code compilerQueue} diagnostic command through the platform MBean server. */
    static final class HotSpotProbe implements Probe {
        static final HotSpotProbe INSTANCE = new HotSpotProbe();
        private static final String[] SIGNATURE = {String[].class.getName()};

        private volatile boolean unavailable;

        @Override
        public Optional<Boolean> idle() {
            if (unavailable) return Optional.empty();
            try {
                MBeanServer server = ManagementFactory.getPlatformMBeanServer();
                Object queue = server.invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerQueue",
                        new Object[] {null}, SIGNATURE);
                return Optional.of(queueIsEmpty(String.valueOf(queue)));
            } catch (JMException | RuntimeException | LinkageError e) {  // not HotSpot, or jdk.management absent
                unavailable = true;
                return Optional.empty();
            }
        }

        @Override
        public long compileMillis() {
            var bean = ManagementFactory.getCompilationMXBean();
            return bean != null && bean.isCompilationTimeMonitoringSupported() ? bean.getTotalCompilationTime() : -1;
        }
    }

    /**
     * Whether {@code Compiler.queue}'s report lists no task: every line is a section header ("Current compiles:",
     * "C1 compile queue:", ...) or "Empty". A line of any other form counts as a task, so a report in a format this
     * does not know reads as busy and the warm-up ends at its time limit.
     */
    static boolean queueIsEmpty(String report) {
        for (String line : report.split("\\R")) {
            String s = line.strip();
            if (!s.isEmpty() && !s.equals("Empty") && !s.endsWith(":")) return false;
        }
        return true;
    }
}
