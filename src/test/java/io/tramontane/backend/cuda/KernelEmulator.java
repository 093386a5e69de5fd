package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A pretend device for the attention, sampling and MoE kernels: buffers at fake addresses, launches recorded
 * exactly as the backend would hand them to cuLaunchKernel (kernel name, grid, block, shared memory, the 8-byte
 * parameter slots {@link KernelArgs} marshals), then run by cuda-kernels/test/attention_emulator.cpp, which executes
 * the kernel bodies of attention_core.cuh, sampling_core.cuh and moe_core.cuh on emulated warps. Needs g++ (C++20);
 * {@link #binary()} is empty without it.
 */
final class KernelEmulator {
    private static final Path ROOT = CudaToolkit.repositoryRoot();
    private static final Path SOURCE = ROOT.resolve("cuda-kernels/test/attention_emulator.cpp");
    private static final Path KERNELS = ROOT.resolve("cuda-kernels");
    private static final List<Path> CORES = List.of(KERNELS.resolve("attention_core.cuh"),
            KERNELS.resolve("sampling_core.cuh"), KERNELS.resolve("moe_core.cuh"));
    private static Optional<Path> binary;

    private record Buffer(DeviceBuffer device, byte[] content) {}

    private record Launch(String kernel, int[] dims, long[] slots) {}

    private final List<Buffer> buffers = new ArrayList<>();
    private final List<Launch> launches = new ArrayList<>();
    private long next = 0x7000_0000L;
    private final Path emulator;

    /** On the emulator built from the repository's kernels ({@link #binary()}, which must be present). */
    KernelEmulator() {
        this(binary().orElseThrow());
    }

    /** On the given emulator binary (a {@link #withMoeCore} variant). */
    KernelEmulator(Path emulator) {
        this.emulator = emulator;
    }

    /** The emulator compiled into the engine's target/ (again when its sources are newer); empty without g++. */
    static synchronized Optional<Path> binary() {
        if (binary != null) return binary;
        Optional<Path> gxx = CudaToolkit.gxx();
        if (gxx.isEmpty()) return binary = Optional.empty();
        Path out = ROOT.resolve("src/target/attention_emulator");
        try {
            boolean stale = !Files.exists(out);
            for (Path source : concat(SOURCE, CORES)) {
                stale = stale || Files.getLastModifiedTime(out).compareTo(Files.getLastModifiedTime(source)) < 0;
            }
            if (stale) {
                compile(gxx.get(), KERNELS, out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return binary = Optional.of(out);
    }

    /**
     * An emulator whose moe_core.cuh is {@code source} instead of the repository's (a deliberately broken variant),
     * compiled into {@code dir}; empty without g++.
     */
    static Optional<Path> withMoeCore(String source, Path dir) throws IOException {
        Optional<Path> gxx = CudaToolkit.gxx();
        if (gxx.isEmpty()) return Optional.empty();
        Path include = Files.createDirectories(dir.resolve("include"));
        Files.writeString(include.resolve("moe_core.cuh"), source);
        Path out = dir.resolve("attention_emulator");
        compile(gxx.get(), include, out);
        return Optional.of(out);
    }

    /** moe_core.cuh is looked up in {@code moeCoreDir} first, then beside the other kernels. */
    private static void compile(Path gxx, Path moeCoreDir, Path out) throws IOException {
        Files.createDirectories(out.getParent());
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try {
            Process p = new ProcessBuilder(gxx.toString(), "-std=c++20", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-Wno-unknown-pragmas", "-I", moeCoreDir.toString(), "-I", KERNELS.toString(), "-o", tmp.toString(),
                    SOURCE.toString()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("g++ failed on " + SOURCE + ":\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
    }

    private static List<Path> concat(Path first, List<Path> rest) {
        List<Path> all = new ArrayList<>(List.of(first));
        all.addAll(rest);
        return all;
    }

    /** {@code bytes} of device memory, NaN-poisoned (every byte 0xff) until a kernel writes it. */
    DeviceBuffer allocate(long bytes) {
        return add(bytes, null);
    }

    DeviceBuffer floats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return add(values.length * 4L, b.array());
    }

    DeviceBuffer ints(int[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(values);
        return add(values.length * 4L, b.array());
    }

    DeviceBuffer longs(long[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return add(values.length * 8L, b.array());
    }

    DeviceBuffer bytes(byte[] content) {
        return add(content.length, content.clone());
    }

    /** A [rows, cols] activation holding {@code values} (null: poisoned). */
    CudaActivation activation(int rows, int cols, float[] values) {
        DeviceBuffer data = values == null ? allocate((long) rows * cols * 4) : floats(values);
        return new CudaActivation(data, data, rows, cols);
    }

    private DeviceBuffer add(long bytes, byte[] content) {
        DeviceBuffer b = new DeviceBuffer(next, bytes);
        next += (bytes + 511) / 256 * 256;  // 256-byte aligned, as cuMemAlloc's, with a gap
        buffers.add(new Buffer(b, content));
        return b;
    }

    /** Records the launch as the driver would receive it. */
    void launch(AttentionKernels.Launch launch) {
        launch(launch.kernel(), launch.config(), launch.arguments());
    }

    void launch(MoeKernels.Launch launch) {
        launch(launch.kernel(), launch.config(), launch.arguments());
    }

    /** Records a launch of {@code kernel} with the parameters {@code arguments} marshals. */
    void launch(String kernel, LaunchConfig c, Consumer<KernelArgs> arguments) {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena, 16);
            arguments.accept(args);
            long[] slots = new long[args.count()];
            for (int i = 0; i < slots.length; i++) slots[i] = args.array().getAtIndex(ADDRESS, i).reinterpret(8).get(JAVA_LONG, 0);
            launches.add(new Launch(kernel, new int[] {c.grid().x(), c.grid().y(), c.grid().z(), c.block().x(),
                    c.block().y(), c.block().z(), c.sharedBytes()}, slots));
        }
    }

    /** Runs every recorded launch in order; returns the contents of {@code outputs} afterwards, as floats. */
    List<float[]> run(Path work, List<DeviceBuffer> outputs) throws IOException, InterruptedException {
        Path input = work.resolve("emulator.in"), output = work.resolve("emulator.out");
        try (var out = Files.newOutputStream(input)) {
            out.write("TRAMEMU1".getBytes(StandardCharsets.US_ASCII));
            out.write(le(4).putInt(buffers.size()).array());
            for (Buffer b : buffers) {
                out.write(le(17).putLong(b.device().address()).putLong(b.device().bytes())
                        .put((byte) (b.content() == null ? 0 : 1)).array());
                if (b.content() != null) out.write(b.content());
            }
            out.write(le(4).putInt(launches.size()).array());
            for (Launch l : launches) {
                byte[] name = l.kernel().getBytes(StandardCharsets.US_ASCII);
                out.write(le(2).putShort((short) name.length).array());
                out.write(name);
                ByteBuffer dims = le(4 * 7 + 4 + 8 * l.slots().length);
                for (int d : l.dims()) dims.putInt(d);
                dims.putInt(l.slots().length);
                for (long s : l.slots()) dims.putLong(s);
                out.write(dims.array());
            }
            out.write(le(4).putInt(outputs.size()).array());
            for (DeviceBuffer o : outputs) out.write(le(16).putLong(o.address()).putLong(o.bytes()).array());
        }
        Process p = new ProcessBuilder(emulator.toString(), input.toString(), output.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("emulator failed: " + log);
        ByteBuffer result = ByteBuffer.wrap(Files.readAllBytes(output)).order(ByteOrder.LITTLE_ENDIAN);
        List<float[]> values = new ArrayList<>();
        for (DeviceBuffer o : outputs) {
            float[] f = new float[Math.toIntExact(o.bytes() / 4)];
            result.asFloatBuffer().get(f);
            result.position(result.position() + f.length * 4);
            values.add(f);
        }
        return values;
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
