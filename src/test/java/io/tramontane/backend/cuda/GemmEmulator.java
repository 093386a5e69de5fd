package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.TensorMap;
import io.tramontane.cuda.TiledTensorMap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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

/**
 * A pretend device for the tensor-core GEMM: buffers at fake addresses, tensor maps encoded by the emulator's own
 * format from the {@link TiledTensorMap} the backend would hand to cuTensorMapEncodeTiled, launches recorded as
 * cuLaunchKernel would receive them (CUtensorMap parameters as their 128 bytes, the rest as 8-byte slots), run by
 * cuda-kernels/test/gemm_emulator.cpp on the kernel body of gemm_sm90_core.cuh. Needs g++ (C++20).
 */
final class GemmEmulator implements AutoCloseable {
    private static final Path ROOT = CudaToolkit.repositoryRoot();
    static final Path SOURCE = ROOT.resolve("cuda-kernels/test/gemm_emulator.cpp");
    static final Path CORE = ROOT.resolve("cuda-kernels/gemm_sm90_core.cuh");
    private static Optional<Path> binary;

    private record Buffer(DeviceBuffer device, byte[] content) {}

    private record Launch(String kernel, int[] dims, List<byte[]> params) {}

    private final Arena arena = Arena.ofConfined();
    private final List<Buffer> buffers = new ArrayList<>();
    private final List<Launch> launches = new ArrayList<>();
    private long next = 0x7000_0000L;

    /** The emulator built from the repository's kernel source into src/target/ (again when stale); empty without g++. */
    static synchronized Optional<Path> binary() {
        if (binary != null) return binary;
        if (CudaToolkit.gxx().isEmpty()) return binary = Optional.empty();
        Path out = ROOT.resolve("src/target/gemm_emulator");
        try {
            if (!Files.exists(out) || Files.getLastModifiedTime(out).compareTo(Files.getLastModifiedTime(SOURCE)) < 0
                    || Files.getLastModifiedTime(out).compareTo(Files.getLastModifiedTime(CORE)) < 0) {
                compile(CORE.getParent(), out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return binary = Optional.of(out);
    }

    /** Compiles the emulator against the gemm_sm90_core.cuh in {@code coreDirectory} (a deliberately broken copy, say). */
    static Path compile(Path coreDirectory, Path out) throws IOException {
        Files.createDirectories(out.getParent());
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Process p = new ProcessBuilder(CudaToolkit.gxx().orElseThrow().toString(), "-std=c++20", "-O2", "-Wall", "-Wextra",
                "-Werror", "-Wno-unknown-pragmas", "-I", coreDirectory.toString(), "-o", tmp.toString(), SOURCE.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("g++ failed on " + SOURCE + ":\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
        return out;
    }

    /** {@code bytes} of device memory, poisoned (every byte 0xff) until a kernel writes it. */
    DeviceBuffer allocate(long bytes) {
        return add(bytes, null);
    }

    DeviceBuffer bytes(byte[] content) {
        return add(content.length, content.clone());
    }

    DeviceBuffer floats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return add(values.length * 4L, b.array());
    }

    private DeviceBuffer add(long bytes, byte[] content) {
        DeviceBuffer b = new DeviceBuffer(next, bytes);
        next += (bytes + 511) / 256 * 256;  // 256-byte aligned, as cuMemAlloc's, with a gap
        buffers.add(new Buffer(b, content));
        return b;
    }

    /**
     * The map as the emulator reads it: "TMAP", element bytes, swizzle span, rank, address, dims[2], row stride,
     * box[2] (what cuTensorMapEncodeTiled receives; the real encoding is the driver's secret).
     */
    TensorMap map(TiledTensorMap spec) {
        if (spec.rank() != 2) throw new IllegalArgumentException("the emulator models rank-2 maps: " + spec);
        ByteBuffer b = ByteBuffer.allocate(TensorMap.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.put("TMAP".getBytes(StandardCharsets.US_ASCII)).putInt(spec.type().bytes).putInt(spec.swizzle().spanBytes).putInt(2)
                .putLong(spec.address()).putLong(spec.globalDims()[0]).putLong(spec.globalDims()[1])
                .putLong(spec.globalStrides()[0]).putInt(spec.box()[0]).putInt(spec.box()[1]);
        return new TensorMap(spec, arena.allocate(TensorMap.BYTES).copyFrom(MemorySegment.ofArray(b.array())));
    }

    /** Records a launch whose first {@code tensorMaps} parameters are CUtensorMaps, the rest 8-byte slots. */
    void launch(String kernel, LaunchConfig config, KernelArgs args, int tensorMaps) {
        List<byte[]> params = new ArrayList<>();
        for (int i = 0; i < args.count(); i++) {
            long size = i < tensorMaps ? TensorMap.BYTES : 8;
            params.add(args.array().getAtIndex(ADDRESS, i).reinterpret(size).toArray(JAVA_BYTE));
        }
        launches.add(new Launch(kernel, new int[] {config.grid().x(), config.grid().y(), config.grid().z(), config.block().x(),
                config.block().y(), config.block().z(), config.sharedBytes()}, params));
    }

    /** Runs every recorded launch with {@code emulator}; the contents of {@code output} afterwards, as floats. */
    float[] run(Path emulator, Path work, DeviceBuffer output) throws IOException, InterruptedException {
        Path input = work.resolve("gemm.in"), result = work.resolve("gemm.out");
        try (var out = Files.newOutputStream(input)) {
            out.write("TRAMGEM1".getBytes(StandardCharsets.US_ASCII));
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
                ByteBuffer dims = le(4 * 7 + 4);
                for (int d : l.dims()) dims.putInt(d);
                out.write(dims.putInt(l.params().size()).array());
                for (byte[] p : l.params()) {
                    out.write(le(4).putInt(p.length).array());
                    out.write(p);
                }
            }
            out.write(le(4).putInt(1).array());
            out.write(le(16).putLong(output.address()).putLong(output.bytes()).array());
        }
        Process p = new ProcessBuilder(emulator.toString(), input.toString(), result.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("emulator failed: " + log);
        float[] values = new float[Math.toIntExact(output.bytes() / 4)];
        ByteBuffer.wrap(Files.readAllBytes(result)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
        arena.close();
    }
}
