package io.tramontane.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * This machine's limits per thread count: decode is bound by memory read bandwidth, prefill by FP32
 * FMA throughput, so the other benchmarks report what they achieve as fractions of these.
 *
 * @param readBufferBytes size of the buffer streamed for bandwidth (must dwarf the last-level cache)
 * @param gpu             what is known of a GPU ("no GPU", or why its limits are not measured)
 */
public record Roofline(Machine machine, long readBufferBytes, List<Point> points, String gpu) {

    /** @param readGbPerSecond 10^9 bytes per second; @param fmaGflops 10^9 FP32 flops per second */
    public record Point(int threads, double readGbPerSecond, double fmaGflops) {}

    public Roofline {
        points = List.copyOf(points);
    }

    /** Measures every thread count, best of {@code runs} each. */
    public static Roofline measure(int[] threadCounts, long bufferBytes, int runs, String gpu) {
        List<Point> points = new ArrayList<>();
        try (ReadBandwidth bandwidth = new ReadBandwidth(bufferBytes)) {
            for (int threads : threadCounts) {
                double read = bandwidth.measure(threads, runs);
                double fma = FmaPeak.measure(threads, runs);
                points.add(new Point(threads, read / 1e9, fma / 1e9));
            }
            return new Roofline(Machine.now(), bandwidth.bytes(), points, gpu);
        }
    }

    /** The point measured with the most threads not above {@code threads} (the fewest measured, if all are above). */
    public Point at(int threads) {
        return points.stream().filter(p -> p.threads() <= threads).max(Comparator.comparingInt(Point::threads))
                .orElseGet(() -> points.stream().min(Comparator.comparingInt(Point::threads)).orElseThrow());
    }
}
