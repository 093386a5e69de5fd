package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A pretend device for the attention, sampling and MoE kernels: buffers at fake addresses, launches recorded
 * exactly as the backend would hand them to cuLaunchKernel (kernel name, grid, block, shared memory, the 8-byte
 * parameter slots {@link KernelArgs} marshals), then run by cuda-kernels/test/attention_emulator.cpp, which executes
 * the kernel bodies of attention_core.cuh, sampling_core.cuh and moe_core.cuh on emulated warps. The memory and the
 * input framing are those of {@link EmulatedDevice}; a launch's parameters go as u32 count, u64 slots[count]. Needs g++
 * (C++20); {@link #binary()} is empty without it.
 */
final class KernelEmulator extends EmulatedDevice {
    private static final String NAME = "attention_emulator";
    private static Optional<Path> binary;

    private final Path emulator;

    /** On the emulator built from the repository's kernels ({@link #binary()}, which must be present). */
    KernelEmulator() {
        this(binary().orElseThrow());
    }

    /** On the given emulator binary (a {@link #withCore} variant). */
    KernelEmulator(Path emulator) {
        super("TRAMEMU1");
        this.emulator = emulator;
    }

    /** The emulator compiled into the engine's target/ (again when its sources are newer); empty without g++. */
    static synchronized Optional<Path> binary() {
        if (binary == null) binary = EmulatorBuild.upToDate(NAME, List.of(EmulatorBuild.KERNELS));
        return binary;
    }

    /**
     * An emulator whose kernel core {@code core} (moe_core.cuh, linear_core.cuh) is {@code source} instead of the
     * repository's (a deliberately broken variant), compiled into {@code dir}; empty without g++.
     */
    static Optional<Path> withCore(String core, String source, Path dir) throws IOException {
        if (CudaToolkit.gxx().isEmpty()) return Optional.empty();
        Path include = Files.createDirectories(dir.resolve("include"));
        Files.writeString(include.resolve(core), source);
        // the cores are looked up in include/ first, then beside the other kernels
        return Optional.of(EmulatorBuild.compile(NAME, List.of(include, EmulatorBuild.KERNELS), dir.resolve(NAME)));
    }

    /** A [rows, cols] activation holding {@code values} (null: poisoned). */
    CudaActivation activation(int rows, int cols, float[] values) {
        DeviceBuffer data = values == null ? allocate((long) rows * cols * 4) : floats(values);
        return new CudaActivation(data, data, rows, cols);
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
            KernelArgs args = new KernelArgs(arena, 32);
            arguments.accept(args);
            ByteBuffer slots = le(4 + 8 * args.count()).putInt(args.count());
            for (int i = 0; i < args.count(); i++) {
                slots.putLong(args.array().getAtIndex(ADDRESS, i).reinterpret(8).get(JAVA_LONG, 0));
            }
            record(kernel, c, slots.array());
        }
    }

    /** Runs every recorded launch in order; returns the contents of {@code outputs} afterwards, as floats. */
    List<float[]> run(Path work, List<DeviceBuffer> outputs) throws IOException, InterruptedException {
        return execute(emulator, work, outputs);
    }
}
