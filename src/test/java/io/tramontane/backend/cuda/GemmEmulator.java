package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.TensorMap;
import io.tramontane.cuda.TiledTensorMap;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A pretend device for the tensor-core GEMM: buffers at fake addresses, tensor maps encoded by the emulator's own
 * format from the {@link TiledTensorMap} the backend would hand to cuTensorMapEncodeTiled, launches recorded as
 * cuLaunchKernel would receive them (CUtensorMap parameters as their 128 bytes, the rest as 8-byte slots), run by
 * cuda-kernels/test/gemm_emulator.cpp on the kernel body of gemm_sm90_core.cuh. The memory and the input framing are
 * those of {@link EmulatedDevice}; a launch's parameters go as u32 count, { u32 size, size bytes }[count]. Needs g++
 * (C++20).
 */
final class GemmEmulator extends EmulatedDevice implements AutoCloseable {
    private static final String NAME = "gemm_emulator";
    static final Path CORE = EmulatorBuild.KERNELS.resolve("gemm_sm90_core.cuh");
    private static Optional<Path> binary;

    private final Arena arena = Arena.ofConfined();

    GemmEmulator() {
        super("TRAMGEM1");
    }

    /** The emulator built from the repository's kernel source into src/target/ (again when stale); empty without g++. */
    static synchronized Optional<Path> binary() {
        if (binary == null) binary = EmulatorBuild.upToDate(NAME, List.of(CORE.getParent()));
        return binary;
    }

    /**
     * Compiles the emulator against the gemm_sm90_core.cuh in {@code coreDirectory} (a deliberately broken copy, say);
     * the headers it includes come from the repository's kernels.
     */
    static Path compile(Path coreDirectory, Path out) throws IOException {
        return EmulatorBuild.compile(NAME, List.of(coreDirectory, EmulatorBuild.KERNELS), out);
    }

    /**
     * The map as the emulator reads it: "TMAP", element bytes, swizzle span, rank, address, dims[2], row stride,
     * box[2] (what cuTensorMapEncodeTiled receives; the real encoding is the driver's secret).
     */
    TensorMap map(TiledTensorMap spec) {
        if (spec.rank() != 2) throw new IllegalArgumentException("the emulator models rank-2 maps: " + spec);
        ByteBuffer b = le(TensorMap.BYTES);
        b.put("TMAP".getBytes(StandardCharsets.US_ASCII)).putInt(spec.type().bytes).putInt(spec.swizzle().spanBytes).putInt(2)
                .putLong(spec.address()).putLong(spec.globalDims()[0]).putLong(spec.globalDims()[1])
                .putLong(spec.globalStrides()[0]).putInt(spec.box()[0]).putInt(spec.box()[1]);
        return new TensorMap(spec, arena.allocate(TensorMap.BYTES).copyFrom(MemorySegment.ofArray(b.array())));
    }

    /** Records a launch whose first {@code tensorMaps} parameters are CUtensorMaps, the rest 8-byte slots. */
    void launch(String kernel, LaunchConfig config, KernelArgs args, int tensorMaps) {
        ByteArrayOutputStream params = new ByteArrayOutputStream();
        params.writeBytes(le(4).putInt(args.count()).array());
        for (int i = 0; i < args.count(); i++) {
            int size = i < tensorMaps ? TensorMap.BYTES : 8;
            params.writeBytes(le(4).putInt(size).array());
            params.writeBytes(args.array().getAtIndex(ADDRESS, i).reinterpret(size).toArray(JAVA_BYTE));
        }
        record(kernel, config, params.toByteArray());
    }

    /** Runs every recorded launch with {@code emulator}; the contents of {@code output} afterwards, as floats. */
    float[] run(Path emulator, Path work, DeviceBuffer output) throws IOException, InterruptedException {
        return execute(emulator, work, List.of(output)).getFirst();
    }

    @Override
    public void close() {
        arena.close();
    }
}
