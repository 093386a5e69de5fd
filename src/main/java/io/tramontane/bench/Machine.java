package io.tramontane.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Where and when a measurement was taken, recorded with every result: numbers from a shared or
 * loaded machine mean little without its load average.
 *
 * @param loadAverage one-minute load average when measured (negative where the OS does not say)
 * @param vectorBits  width of the Vector API's preferred float species
 */
public record Machine(String date, String cpu, int cores, int vectorBits, String java, double loadAverage) {

    /** This machine, now. */
    public static Machine now() {
        return new Machine(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), cpuName(),
                Runtime.getRuntime().availableProcessors(), FmaPeak.vectorBits(), Runtime.version().toString(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    /** The processor's model name from /proc/cpuinfo (Linux), else the architecture. */
    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException | SecurityException e) {
            // not Linux: fall through to the architecture
        }
        return System.getProperty("os.arch");
    }
}
