package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * What a kernel allocates on this thread once C2 has compiled it. Until then Vector API code runs as Java and
 * allocates, and on a loaded machine with a long compile queue that takes seconds; so calls run in rounds until a round
 * allocates nothing or a minute has passed. Which kernel C2 leaves boxing depends on what ran before it in the JVM
 * (2026-11-27: a CI run's BF16 tiles allocated 1 KB a tile at 4 lanes for the whole minute; the same suite in the same
 * order passed here), so a failure names the allocating frames, as a JFR recording of the calls saw them.
 */
final class CompiledAllocations {
    private CompiledAllocations() {}

    /** Fails, naming where, unless {@code calls} calls of {@code call} allocate nothing once compiled. */
    static void assertNone(String what, int calls, Runnable call) {
        assertNone(what, calls, call, Duration.ofMinutes(1));
    }

    /** As {@link #assertNone(String, int, Runnable)}, giving the JIT {@code limit} to compile the calls. */
    static void assertNone(String what, int calls, Runnable call, Duration limit) {
        long allocated = bytesOnceCompiled(calls, call, limit);
        // the description, and so the recording, only on failure
        assertThat(allocated).as(() -> "bytes allocated by %d compiled %s, at %s".formatted(calls, what, sites(calls, call)))
                .isZero();
    }

    /**
     * Bytes that {@code calls} calls of {@code call} allocate on this thread: zero from the first round that allocates
     * none, else those of the last round within {@code limit}.
     */
    private static long bytesOnceCompiled(int calls, Runnable call, Duration limit) {
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocated = -1, deadline = System.nanoTime() + limit.toNanos();
        while (allocated != 0 && System.nanoTime() < deadline) {
            long before = bean.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < calls; i++) call.run();
            allocated = bean.getCurrentThreadAllocatedBytes() - before;
        }
        return allocated;
    }

    /**
     * The classes allocated by this thread in rounds of {@code calls} calls, with the five innermost frames of each
     * (and whether each ran interpreted, compiled or inlined), most often sampled first.
     */
    private static String sites(int calls, Runnable call) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        long thread = Thread.currentThread().threadId();
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ObjectAllocationInNewTLAB").withStackTrace();
            recording.enable("jdk.ObjectAllocationOutsideTLAB").withStackTrace();
            recording.start();
            for (int round = 0; round < 20; round++) {
                for (int i = 0; i < calls; i++) call.run();
            }
            recording.stop();
            Path file = Files.createTempFile("allocations", ".jfr");
            try {
                recording.dump(file);
                for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
                    if (event.getThread() == null || event.getThread().getJavaThreadId() != thread) continue;
                    counts.merge(site(event), 1, Integer::sum);
                }
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (counts.isEmpty()) return "no allocation sampled in a recording of " + 20 * calls + " calls";
        return counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()))
                .limit(5).map(e -> e.getValue() + " samples: " + e.getKey()).collect(Collectors.joining("; "));
    }

    private static String site(RecordedEvent event) {
        String type = javaName(event.getClass("objectClass").getName());
        if (event.getStackTrace() == null) return type;
        return type + " from " + event.getStackTrace().getFrames().stream().limit(5).map(CompiledAllocations::frame)
                .collect(Collectors.joining(" < "));
    }

    /** {@code [J} as {@code long[]}, {@code [Ljava.lang.String;} as {@code java.lang.String[]}. */
    private static String javaName(String jvmName) {
        int dims = 0;
        while (jvmName.charAt(dims) == '[') dims++;
        if (dims == 0) return jvmName;
        String element = switch (jvmName.charAt(dims)) {
            case 'J' -> "long";
            case 'I' -> "int";
            case 'S' -> "short";
            case 'B' -> "byte";
            case 'C' -> "char";
            case 'Z' -> "boolean";
            case 'F' -> "float";
            case 'D' -> "double";
            default -> jvmName.substring(dims + 1, jvmName.length() - 1);
        };
        return element + "[]".repeat(dims);
    }

    private static String frame(RecordedFrame frame) {
        var method = frame.getMethod();
        return method.getType().getName() + "." + method.getName() + ":" + frame.getLineNumber() + " (" + frame.getType() + ")";
    }
}
