package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.tramontane.cuda.CaptureMode;
import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Event;
import io.tramontane.cuda.Graph;
import io.tramontane.cuda.GraphExec;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The decode linears of Devstral Small on their own: the gemv's GB/s of weights against the measured read bandwidth,
 * the kernel the issue wants at the HBM roofline. Each shape's weight is repeated in as many copies as make 512 MB (far
 * past L2, as 40 layers are) and one pass over the copies is captured as a graph, so neither L2 hits nor launch gaps
 * flatter the figure. Beside each e4m3 and BF16 row, the rates of the {@link GemvLayout#ALTERNATIVES}. Weights are all
 * 1.0, so each output is its token's sum of x: every layout's output is checked against that, NaN-poisoned. (On an H200, 2026-11-26, with the gemv before the shared-memory ring: e4m3 at 17-36% of the
 * read bandwidth, the BF16 head at 101%; see docs/gpu-log.md.)
 */
final class GemvTiming {
    /** A decode linear: {@code m} tokens through an n x k weight of {@code format}. */
    record GemvShape(String name, WeightFormat format, int m, int n, int k) {
        @Override
        public String toString() {
            return name + " " + m + "x" + n + "x" + k;
        }
    }

    static final List<GemvShape> SHAPES = List.of(
            new GemvShape("q", WeightFormat.E4M3, 1, 4096, 5120), new GemvShape("k/v", WeightFormat.E4M3, 1, 1024, 5120),
            new GemvShape("o", WeightFormat.E4M3, 1, 5120, 4096), new GemvShape("gate/up", WeightFormat.E4M3, 1, 32768, 5120),
            new GemvShape("down", WeightFormat.E4M3, 1, 5120, 32768), new GemvShape("head", WeightFormat.BF16, 1, 131072, 5120),
            new GemvShape("gate/up", WeightFormat.E4M3, 8, 32768, 5120));
    private static final long PASS_BYTES = 512L << 20;
    private static final int NAN_BITS = 0x7fc00000;
    private static final double BOUND = 1e-5;
    private final CudaDriver driver;
    private final KernelModule module;
    private final int multiprocessors;

    GemvTiming(CudaDriver driver, KernelModule module, int multiprocessors) {
        this.driver = driver;
        this.module = module;
        this.multiprocessors = multiprocessors;
    }

    List<CheckResult> all(double readBytesPerSecond, long seed) {
        List<CheckResult> results = new ArrayList<>();
        for (GemvShape shape : SHAPES) results.add(time(shape, readBytesPerSecond, seed));
        return results;
    }

    CheckResult time(GemvShape s, double readBytesPerSecond, long seed) {
        String check = "gemv timing " + s.format().suffix;
        String shape = s.toString();
        return KernelChecks.attempt(check, shape, seed, () -> {
            long weightBytes = (long) s.n() * s.k() * s.format().bytes;
            int copies = (int) Math.max(1, PASS_BYTES / weightBytes);
            Stream stream = driver.streamCreate(Stream.NON_BLOCKING);
            try (Arena host = Arena.ofConfined(); DeviceArena device = new DeviceArena(driver)) {
                float[] x = new float[s.m() * s.k()];
                SplittableRandom random = new SplittableRandom(seed);
                for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble(-1, 1);
                DeviceBuffer xs = device.allocate((long) x.length * Float.BYTES);
                driver.copyToDevice(xs, host.allocateFrom(JAVA_FLOAT, x));
                List<CudaWeight> weights = new ArrayList<>();
                for (int c = 0; c < copies; c++) {
                    DeviceBuffer data = device.allocate(weightBytes);
                    if (s.format() == WeightFormat.E4M3) driver.memsetD8(data, (byte) 0x38);  // e4m3 1.0
                    else driver.memsetD32(data, 0x3f803f80);                                  // two BF16 1.0
                    weights.add(new CudaWeight(data, s.format(), s.n(), s.k(), s.k(), 1f, Float.NaN));
                }
                driver.streamSynchronize(Stream.DEFAULT);  // the memsets, before the non-blocking stream reads
                long outFloats = (long) s.m() * s.n();
                DeviceBuffer y = device.allocate(outFloats * Float.BYTES);
                List<GemvLayout> layouts = new ArrayList<>(List.of(GemvLayout.PRODUCTION));
                if (s.format() != WeightFormat.F32) layouts.addAll(GemvLayout.ALTERNATIVES);
                double[] micros = new double[layouts.size()];
                String failure = null;
                for (int i = 0; i < layouts.size() && failure == null; i++) {
                    GemvLayout layout = layouts.get(i);
                    Launcher launcher = layout.launcher(module, s.format());
                    LaunchConfig config = layout.config(s.m(), s.n(), multiprocessors);
                    driver.memsetD32Async(y, NAN_BITS, stream);
                    micros[i] = timePass(stream, () -> {
                        for (CudaWeight w : weights) {
                            launcher.launch(stream, config,
                                    args -> LinearKernels.arguments(args, xs, w, y, s.m(), 1f, layout, multiprocessors));
                        }
                    });
                    MemorySegment out = host.allocate(outFloats * Float.BYTES);
                    driver.copyToHost(out, y);
                    failure = compare(out.toArray(JAVA_FLOAT), x, s);
                    if (failure != null) failure = layout.kernel(s.format()) + ": " + failure;
                }
                double bytes = (double) copies * weightBytes, rate = bytes / (micros[0] * 1e-6);
                String detail = failure != null ? failure : String.format(Locale.ROOT, "%.0f GB/s = %.0f%% of the measured %.0f GB/s",
                        rate / 1e9, 100 * rate / readBytesPerSecond, readBytesPerSecond / 1e9);
                for (int i = 1; i < layouts.size() && failure == null; i++) {
                    double other = bytes / (micros[i] * 1e-6);
                    detail += String.format(Locale.ROOT, "; %s %.0f GB/s (%.2fx)", layouts.get(i).suffix().substring(1), other / 1e9,
                            other / rate);
                }
                return new CheckResult(check, shape, seed, failure == null, 0, BOUND, micros[0] / copies, detail);
            } finally {
                driver.streamDestroy(stream);
            }
        });
    }

    /** Every output y[t, r] against the sum of x[t, :] (all weights are 1), relative to the row's L2 norm; else null. */
    static String compare(float[] y, float[] x, GemvShape s) {
        for (int t = 0; t < s.m(); t++) {
            double sum = 0, squares = 0;
            for (int i = 0; i < s.k(); i++) {
                sum += x[t * s.k() + i];
                squares += (double) x[t * s.k() + i] * x[t * s.k() + i];
            }
            double floor = Math.sqrt(squares);
            for (int r = 0; r < s.n(); r++) {
                float v = y[t * s.n() + r];
                if (Float.isNaN(v) || Math.abs(v - sum) > BOUND * Math.max(Math.abs(sum), floor)) {
                    return "token " + t + " row " + r + ": " + v + " vs " + sum;
                }
            }
        }
        return null;
    }

    /** One pass captured as a graph, launched once warm, then timed (best of three) with events on {@code stream}. */
    private double timePass(Stream stream, Runnable pass) {
        driver.streamBeginCapture(stream, CaptureMode.THREAD_LOCAL);
        Graph graph;
        try {
            pass.run();
        } finally {
            graph = driver.streamEndCapture(stream);
        }
        GraphExec exec = driver.graphInstantiate(graph);
        Event start = driver.eventCreate(), end = driver.eventCreate();
        try {
            driver.graphLaunch(exec, stream);
            double best = Double.POSITIVE_INFINITY;
            for (int i = 0; i < 3; i++) {
                driver.eventRecord(start, stream);
                driver.graphLaunch(exec, stream);
                driver.eventRecord(end, stream);
                driver.eventSynchronize(end);
                best = Math.min(best, driver.eventElapsedMillis(start, end) * 1000.0);
            }
            return best;
        } finally {
            driver.eventDestroy(start);
            driver.eventDestroy(end);
            driver.graphExecDestroy(exec);
            driver.graphDestroy(graph);
        }
    }
}
