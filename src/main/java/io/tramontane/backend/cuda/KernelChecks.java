package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.tramontane.cuda.CaptureMode;
import io.tramontane.engine.GoldenChecks;
import io.tramontane.cuda.Cuda;
import io.tramontane.cuda.CudaContext;
import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.CudaProbe;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceAttribute;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.DeviceInfo;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.Event;
import io.tramontane.cuda.Graph;
import io.tramontane.cuda.GraphExec;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The CUDA checks that need a GPU, shared by the JUnit tests and {@code tramontane gpu-check}: each kernel on
 * fresh random inputs against a float64 reference, with the output poisoned (NaN) before the launch and a
 * poisoned guard after it, so unwritten elements and out-of-bounds writes fail.
 */
public final class KernelChecks {
    /** An RMSNorm problem: {@code rows} rows of {@code dim} elements. */
    public record Shape(int rows, int dim) {
        @Override
        public String toString() {
            return rows + "x" + dim;
        }
    }

    /** Odd and tiny dims (partial warps, one thread per element or fewer) and model widths (Mistral 7B, Small). */
    public static final List<Shape> RMSNORM_SHAPES = List.of(new Shape(1, 1), new Shape(3, 7), new Shape(4, 33),
            new Shape(2, 1000), new Shape(5, 1025), new Shape(4, 4096), new Shape(3, 5120), new Shape(2, 12289));

    /** FP32 output after an FP32 reduction: a few ulp (about 1e-7 each) in practice; a wrong formula is far off. */
    static final double FP32_BOUND = 1e-5;
    static final float EPS = 1e-5f;
    private static final int NAN_BITS = 0x7fc00000;
    private static final int GUARD_FLOATS = 64;

    /** What the read-bandwidth probe streams: far more than any L2 holds. */
    static final long READ_BYTES = 1L << 30;

    private final CudaDriver driver;
    private final DeviceInfo info;
    private final RmsNormKernel rmsnorm;
    private final Launcher readBandwidth;

    /** Checks in {@code context} (current on this thread) with kernels from {@code module}. */
    public KernelChecks(CudaContext context, KernelModule module) {
        this.driver = context.driver();
        this.info = context.device();
        this.rmsnorm = new RmsNormKernel(module);
        this.readBandwidth = Launcher.of(module, "read_bandwidth", 3);
    }

    /** Every check but the golden models on device 0, or {@code skipped} when there is no usable driver. */
    public static GpuCheckReport run() {
        return run(null);
    }

    /**
     * Every check on device 0: the kernels, the read bandwidth, every CudaBackend op against CpuBackend
     * ({@link BackendChecks}, {@link AttentionChecks} and {@link GemmChecks} with their timing lines,
     * {@link SamplingChecks}, {@link MoeChecks}), our linear against cuBLASLt ({@link GemmBaselineChecks}, one skipped row without
     * cuBLASLt), decode steps as CUDA graphs ({@link GraphChecks}), tensor parallelism ({@link TensorParallelChecks}), the Devstral Small decode and prefill ({@link DevstralChecks}) and,
     * when {@code golden} is not null, every case under it through the CUDA backend ({@link GoldenChecks}).
     * {@code skipped} when there is no usable driver. Never throws.
     */
    public static GpuCheckReport run(java.nio.file.Path golden) {
        return run(golden, EnumSet.allOf(CheckSection.class), result -> {});
    }

    /**
     * {@link #run(java.nio.file.Path)} limited to {@code sections} (the kernel basics always run), handing each result
     * to {@code progress} as soon as it is known.
     */
    public static GpuCheckReport run(java.nio.file.Path golden, Set<CheckSection> sections, Consumer<CheckResult> progress) {
        CudaProbe probe = Cuda.probe();
        if (!probe.available()) return GpuCheckReport.skipped(probe);
        CudaDriver driver = probe.driver().orElseThrow();
        List<CheckResult> results = new Reported(progress);
        DeviceInfo device = null;
        try (CudaContext context = CudaContext.open(driver, 0); KernelModule module = KernelModule.load(driver)) {
            device = context.device();
            KernelChecks checks = new KernelChecks(context, module);
            results.add(checks.memoryRoundTrip(seed()));
            for (Shape shape : RMSNORM_SHAPES) results.add(checks.rmsnorm(shape, seed()));
            results.add(checks.rmsnormGraph(new Shape(3, 4096), seed()));
            CheckResult bandwidth = checks.readBandwidth();
            results.add(bandwidth);
            var roofline = new AttentionChecks.Roofline(READ_BYTES / (bandwidth.micros() * 1e-6),
                    bf16Peak(device, driver.deviceAttribute(driver.device(0), DeviceAttribute.CLOCK_RATE)));
            try (CudaBackend backend = CudaBackend.open(CudaBackend.Options.defaults());
                 BackendChecks ops = new BackendChecks(backend)) {
                if (sections.contains(CheckSection.OPS)) results.addAll(ops.all());
                if (sections.contains(CheckSection.ATTENTION)) results.addAll(new AttentionChecks(ops).all(roofline));
                if (sections.contains(CheckSection.GEMM)) {
                    results.addAll(new GemmChecks(ops).all(roofline, device.smName()));
                    results.addAll(new GemvTiming(driver, module, device.multiprocessors()).all(roofline.readBytesPerSecond(), seed()));
                }
                if (sections.contains(CheckSection.SAMPLING)) results.addAll(new SamplingChecks(ops).all());
                if (sections.contains(CheckSection.MOE)) results.addAll(new MoeChecks(ops).all(roofline));
                if (sections.contains(CheckSection.CUBLASLT)) results.addAll(GemmBaselineChecks.all(ops));
            }
            if (golden != null && sections.contains(CheckSection.GOLDEN)) results.addAll(GoldenChecks.cuda(golden));
            if (sections.contains(CheckSection.GRAPHS)) results.add(GraphChecks.decode(seed()));
            if (sections.contains(CheckSection.TP)) results.addAll(TensorParallelChecks.all(golden));
            if (sections.contains(CheckSection.DEVSTRAL)) {
                results.addAll(DevstralChecks.all(device, roofline.readBytesPerSecond() / 1e9,
                        2 * roofline.bf16FlopsPerSecond(), seed()));
            }
            return GpuCheckReport.of(probe, device, results, null);
        } catch (RuntimeException e) {
            return GpuCheckReport.of(probe, device, results, e.toString());
        }
    }

    /**
     * Dense BF16 tensor-core FLOP/s from the device's SM count and reported SM clock (kHz): 4096 FLOP per SM and clock
     * on sm_90 (H100 SXM: 132 SMs x 1.98 GHz = 1070 TFLOP/s; the datasheet's 989 is at 1.83 GHz), 8192 on sm_100;
     * NaN for other architectures.
     */
    static double bf16Peak(DeviceInfo device, int clockKHz) {
        int perClock = switch (device.computeMajor()) {
            case 9 -> 4096;
            case 10 -> 8192;
            default -> 0;
        };
        return perClock == 0 ? Double.NaN : (double) device.multiprocessors() * clockKHz * 1e3 * perClock;
    }

    /**
     * The read bandwidth a kernel gets (read_bandwidth streaming {@link #READ_BYTES} once): the best of three warm
     * runs, with the datasheet figure beside it. A measurement: it fails only when the launch does.
     */
    public CheckResult readBandwidth() {
        String check = "read bandwidth", shape = (READ_BYTES >> 20) + " MiB";
        return attempt(check, shape, 0, () -> {
            try (DeviceArena arena = new DeviceArena(driver)) {
                DeviceBuffer data = arena.allocate(READ_BYTES), sink = arena.allocate(Integer.BYTES);
                driver.memsetD8(data, (byte) 0x5a);
                LaunchConfig config = new LaunchConfig(Dim3.of(16 * info.multiprocessors()), Dim3.of(256), 0);
                Runnable read = () -> readBandwidth.launch(Stream.DEFAULT, config,
                        args -> args.clear().pointer(data).i64(READ_BYTES / 16).pointer(sink));
                read.run();
                double best = Double.POSITIVE_INFINITY;
                for (int i = 0; i < 3; i++) best = Math.min(best, timeMicros(read));
                String detail = String.format(Locale.ROOT, "%.0f GB/s measured, %.0f GB/s datasheet",
                        READ_BYTES / (best * 1e-6) / 1e9, info.peakBandwidthBytesPerSecond() / 1e9);
                return new CheckResult(check, shape, 0, true, Double.NaN, Double.NaN, best, detail);
            }
        });
    }

    /** Fresh inputs on every run; the seed is reported so a failure can be replayed. */
    public static long seed() {
        return System.nanoTime();
    }

    /** memsetD8 and copies in both directions, byte for byte. */
    public CheckResult memoryRoundTrip(long seed) {
        String check = "memset+memcpy", shape = "4099 bytes";
        return attempt(check, shape, seed, () -> {
            try (Arena host = Arena.ofConfined(); DeviceArena device = new DeviceArena(driver)) {
                DeviceBuffer buffer = device.allocate(4099);
                MemorySegment back = host.allocate(4099);
                driver.memsetD8(buffer, (byte) 0x5a);
                driver.copyToHost(back, buffer);
                int unset = firstMismatch(back, i -> (byte) 0x5a);
                SplittableRandom random = new SplittableRandom(seed);
                MemorySegment pattern = host.allocate(4099);
                for (long i = 0; i < pattern.byteSize(); i++) pattern.set(JAVA_BYTE, i, (byte) random.nextInt());
                driver.copyToDevice(buffer, pattern);
                driver.copyToHost(back.fill((byte) 0), buffer);
                int differs = firstMismatch(back, i -> pattern.get(JAVA_BYTE, i));
                String detail = unset >= 0 ? "memset byte " + unset + " differs" : differs >= 0 ? "byte " + differs + " differs" : "";
                return new CheckResult(check, shape, seed, detail.isEmpty(), 0, 0, Double.NaN, detail);
            }
        });
    }

    /** {@code rmsnorm_f32} on the default stream against {@link RmsNormReference}; then one timed warm launch. */
    public CheckResult rmsnorm(Shape shape, long seed) {
        return attempt(RmsNormKernel.NAME, shape.toString(), seed, () -> {
            Problem problem = Problem.random(shape, seed);
            try (Arena host = Arena.ofConfined(); DeviceArena device = new DeviceArena(driver)) {
                DeviceBuffer x = upload(device, host, problem.x());
                DeviceBuffer w = upload(device, host, problem.w());
                DeviceBuffer yWithGuard = device.allocate((problem.x().length + GUARD_FLOATS) * (long) Float.BYTES);
                DeviceBuffer y = yWithGuard.slice(0, x.bytes());
                driver.memsetD32(yWithGuard, NAN_BITS);
                rmsnorm.launch(Stream.DEFAULT, x, w, y, shape.rows(), shape.dim(), EPS);
                float[] out = download(host, yWithGuard);
                double micros = timeMicros(() -> rmsnorm.launch(Stream.DEFAULT, x, w, y, shape.rows(), shape.dim(), EPS));
                return compare(RmsNormKernel.NAME, shape, seed, out, problem.reference(), micros);
            }
        });
    }

    /**
     * The decode-step pattern: pinned uploads, poisoning, the kernel and the download captured once as a CUDA
     * graph on a non-blocking stream, then replayed twice on new host data; each replay is checked.
     */
    public CheckResult rmsnormGraph(Shape shape, long seed) {
        String check = RmsNormKernel.NAME + " (graph)";
        return attempt(check, shape.toString(), seed, () -> {
            Stream stream = driver.streamCreate(Stream.NON_BLOCKING);
            try (DeviceArena device = new DeviceArena(driver)) {
                long activationBytes = (long) shape.rows() * shape.dim() * Float.BYTES;
                MemorySegment hostX = device.allocatePinned(activationBytes);
                MemorySegment hostW = device.allocatePinned(shape.dim() * (long) Float.BYTES);
                MemorySegment hostY = device.allocatePinned(activationBytes + GUARD_FLOATS * (long) Float.BYTES);
                DeviceBuffer x = device.allocate(hostX.byteSize()), w = device.allocate(hostW.byteSize());
                DeviceBuffer yWithGuard = device.allocate(hostY.byteSize());
                DeviceBuffer y = yWithGuard.slice(0, activationBytes);

                driver.streamBeginCapture(stream, CaptureMode.THREAD_LOCAL);
                Graph graph;
                try {
                    driver.copyToDeviceAsync(x, hostX, stream);
                    driver.copyToDeviceAsync(w, hostW, stream);
                    driver.memsetD32Async(yWithGuard, NAN_BITS, stream);
                    rmsnorm.launch(stream, x, w, y, shape.rows(), shape.dim(), EPS);
                    driver.copyToHostAsync(hostY, yWithGuard, stream);
                } finally {
                    graph = driver.streamEndCapture(stream);  // ends a failed capture too, so the stream stays usable
                }
                GraphExec exec = driver.graphInstantiate(graph);
                try {
                    CheckResult result = null;
                    for (int replay = 0; replay < 2 && (result == null || result.passed()); replay++) {
                        Problem problem = Problem.random(shape, seed + replay);
                        MemorySegment.copy(problem.x(), 0, hostX, JAVA_FLOAT, 0, problem.x().length);
                        MemorySegment.copy(problem.w(), 0, hostW, JAVA_FLOAT, 0, problem.w().length);
                        driver.graphLaunch(exec, stream);
                        driver.streamSynchronize(stream);
                        result = compare(check, shape, seed, hostY.toArray(JAVA_FLOAT), problem.reference(), Double.NaN);
                    }
                    return result;
                } finally {
                    driver.graphExecDestroy(exec);
                    driver.graphDestroy(graph);
                }
            } finally {
                driver.streamDestroy(stream);
            }
        });
    }

    /** Random activations whose rows span four orders of magnitude, so eps matters in some rows. */
    record Problem(Shape shape, float[] x, float[] w) {
        static Problem random(Shape shape, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            float[] x = new float[shape.rows() * shape.dim()], w = new float[shape.dim()];
            for (int r = 0; r < shape.rows(); r++) {
                double scale = Math.pow(10, -(r % 4));
                for (int i = 0; i < shape.dim(); i++) x[r * shape.dim() + i] = (float) (random.nextDouble(-1, 1) * scale);
            }
            for (int i = 0; i < w.length; i++) w[i] = (float) random.nextDouble(-2, 2);
            return new Problem(shape, x, w);
        }

        double[] reference() {
            return RmsNormReference.rmsnorm(x, w, shape.rows(), shape.dim(), EPS);
        }
    }

    /**
     * Compares {@code out} (the output followed by its guard) with {@code reference}: every output element within
     * {@link #FP32_BOUND} relative error, every guard element still the poison pattern.
     */
    static CheckResult compare(String check, Shape shape, long seed, float[] out, double[] reference, double micros) {
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < reference.length; i++) {
            if (Float.isNaN(out[i])) {
                return new CheckResult(check, shape.toString(), seed, false, Double.NaN, FP32_BOUND, micros,
                        "element " + i + " is NaN: unwritten (still poisoned) or invalid");
            }
            double error = Math.abs(out[i] - reference[i]) / Math.max(Math.abs(reference[i]), Float.MIN_NORMAL);
            if (error > worst) {
                worst = error;
                worstIndex = i;
            }
        }
        for (int i = reference.length; i < out.length; i++) {
            if (Float.floatToRawIntBits(out[i]) != NAN_BITS) {
                return new CheckResult(check, shape.toString(), seed, false, worst, FP32_BOUND, micros,
                        "wrote past the output, at element " + i);
            }
        }
        boolean passed = worst <= FP32_BOUND;
        String detail = passed ? "" : "element " + worstIndex + ": " + out[worstIndex] + " vs " + reference[worstIndex];
        return new CheckResult(check, shape.toString(), seed, passed, worst, FP32_BOUND, micros, detail);
    }

    private DeviceBuffer upload(DeviceArena device, Arena host, float[] values) {
        DeviceBuffer buffer = device.allocate(values.length * (long) Float.BYTES);
        driver.copyToDevice(buffer, host.allocateFrom(JAVA_FLOAT, values));
        return buffer;
    }

    private float[] download(Arena host, DeviceBuffer buffer) {
        MemorySegment segment = host.allocate(buffer.bytes(), Float.BYTES);
        driver.copyToHost(segment, buffer);
        return segment.toArray(JAVA_FLOAT);
    }

    /** Time of {@code work} on the default stream, measured with CUDA events. */
    private double timeMicros(Runnable work) {
        Event start = driver.eventCreate(), end = driver.eventCreate();
        try {
            driver.eventRecord(start, Stream.DEFAULT);
            work.run();
            driver.eventRecord(end, Stream.DEFAULT);
            driver.eventSynchronize(end);
            return driver.eventElapsedMillis(start, end) * 1000.0;
        } finally {
            driver.eventDestroy(start);
            driver.eventDestroy(end);
        }
    }

    private interface ByteAt {
        byte at(long index);
    }

    private static int firstMismatch(MemorySegment actual, ByteAt expected) {
        for (int i = 0; i < actual.byteSize(); i++) if (actual.get(JAVA_BYTE, i) != expected.at(i)) return i;
        return -1;
    }

    /** The results so far; each is handed on as it is added (a run that is cut short still reported what it did). */
    private static final class Reported extends ArrayList<CheckResult> {
        private final transient Consumer<CheckResult> progress;

        Reported(Consumer<CheckResult> progress) {
            this.progress = progress;
        }

        @Override
        public boolean add(CheckResult result) {
            super.add(result);
            progress.accept(result);
            return true;
        }

        @Override
        public boolean addAll(Collection<? extends CheckResult> results) {
            results.forEach(this::add);
            return !results.isEmpty();
        }
    }

    /** Runs one check; an exception (a CUDA error, a size mismatch) fails that check rather than the run. */
    static CheckResult attempt(String check, String shape, long seed, Supplier<CheckResult> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            return CheckResult.failed(check, shape, seed, e.toString());
        }
    }
}
