package io.tramontane.backend.cuda;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Kernel;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import java.lang.foreign.Arena;
import java.util.function.Consumer;

/** One kernel of the module and how to enqueue it; the kernel families' launchers check arguments first. */
record Launcher(CudaDriver driver, Kernel kernel, String name, int parameters) {

    static Launcher of(KernelModule module, String name, int parameters) {
        return new Launcher(module.driver(), module.kernel(name), name, parameters);
    }

    /** Marshals the parameters with {@code fill} (already checked by the caller) and launches. */
    void launch(Stream stream, LaunchConfig config, Consumer<KernelArgs> fill) {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena, parameters);
            fill.accept(args);
            if (args.count() != parameters) {
                throw new IllegalStateException(name + " takes " + parameters + " parameters, got " + args.count());
            }
            driver.launchKernel(kernel, config, stream, args);
        }
    }

    // ---- checks shared by the launchers: every buffer against the shape, before anything reaches the driver

    /** Largest grid.y and grid.z. */
    static final int MAX_GRID_YZ = 65535;

    static void requireFloats(DeviceBuffer buffer, long count, String what) {
        buffer.requireBytes(Math.multiplyExact(count, Float.BYTES), what);
    }

    static void requireInts(DeviceBuffer buffer, long count, String what) {
        buffer.requireBytes(Math.multiplyExact(count, Integer.BYTES), what);
    }

    static void requirePositive(String what, long... values) {
        for (long v : values) if (v < 1) throw new IllegalArgumentException(what + " must be positive: " + v);
    }

    static void requireGridYz(long extent, String what) {
        if (extent > MAX_GRID_YZ) throw new IllegalArgumentException(what + " " + extent + " exceeds grid limit " + MAX_GRID_YZ);
    }

    /** Blocks of {@code threads} for a grid-stride loop over {@code count} elements, capped (the loop covers the rest). */
    static int strideBlocks(long count, int threads) {
        return (int) Math.max(1, Math.min((count + threads - 1) / threads, 8192));
    }
}
