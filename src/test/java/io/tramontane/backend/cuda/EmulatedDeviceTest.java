package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.LaunchConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plumbing both host emulators share (cuda-kernels/test/emulated_device.h, {@link EmulatedDevice}): buffers go in
 * and dumps come back byte for byte through either emulator's framing, unfilled buffers come back poisoned, and bad
 * input ends the run with a message naming what was wrong. Skipped, visibly, without g++.
 */
class EmulatedDeviceTest {
    private static final float[] VALUES = {1.5f, -2.0f, Float.MIN_VALUE, 3e38f, 0.0f, -0.0f, 7.25f};

    @BeforeEach
    void needsGxx() {
        boolean present = KernelEmulator.binary().isPresent() && GemmEmulator.binary().isPresent();
        if (!present) System.err.println("SKIPPED: EmulatedDeviceTest: g++ not found");
        assumeTrue(present, "g++ not found: the emulators cannot be built");
    }

    @Test
    void theAttentionEmulatorDumpsBuffersAsTheyWentIn(@TempDir Path work) throws Exception {
        KernelEmulator device = new KernelEmulator();
        DeviceBuffer filled = device.floats(VALUES), poisoned = device.allocate(12);
        List<float[]> dumps = device.run(work, List.of(filled, poisoned));
        assertThat(dumps.get(0)).containsExactly(VALUES);
        assertThat(dumps.get(1)).containsExactly(Float.NaN, Float.NaN, Float.NaN);
    }

    @Test
    void theGemmEmulatorDumpsBuffersAsTheyWentIn(@TempDir Path work) throws Exception {
        try (GemmEmulator device = new GemmEmulator()) {
            device.allocate(1000);
            DeviceBuffer filled = device.floats(VALUES);
            assertThat(device.run(GemmEmulator.binary().orElseThrow(), work, filled)).containsExactly(VALUES);
        }
    }

    @Test
    void aDumpPastItsBufferFails(@TempDir Path work) {
        KernelEmulator device = new KernelEmulator();
        DeviceBuffer b = device.floats(VALUES);
        assertThatThrownBy(() -> device.run(work, List.of(new DeviceBuffer(b.address(), b.bytes() + 4))))
                .hasMessageContaining("attention_emulator: dump: 32 bytes at 0x70000000 run past the buffer at 0x70000000");
        assertThatThrownBy(() -> device.run(work, List.of(new DeviceBuffer(b.address() - 256, 4))))
                .hasMessageContaining("dump: address 0x6fffff00 is in no buffer");
    }

    @Test
    void aKernelWritingPastItsOutputFails(@TempDir Path work) {
        KernelEmulator device = new KernelEmulator();
        DeviceBuffer x = device.floats(VALUES), order = device.ints(new int[] {0});
        DeviceBuffer sorted = device.allocate(4 * 4);  // gather copies all 7 columns into room for 4
        device.launch("moe_gather", new LaunchConfig(Dim3.of(1), Dim3.of(256), 0),
                args -> args.pointer(x).pointer(order).i32(1).i32(VALUES.length).pointer(sorted));
        assertThatThrownBy(() -> device.run(work, List.of()))
                .hasMessageContaining("moe_gather wrote past the buffer at 0x" + Long.toHexString(sorted.address()));
    }

    @Test
    void anUnknownKernelFails(@TempDir Path work) {
        KernelEmulator device = new KernelEmulator();
        device.launch("no_such_kernel", new LaunchConfig(Dim3.of(1), Dim3.of(32), 0), args -> {});
        assertThatThrownBy(() -> device.run(work, List.of())).hasMessageContaining("no kernel no_such_kernel");
    }

    @Test
    void anInputForTheOtherEmulatorFails(@TempDir Path work) {
        KernelEmulator device = new KernelEmulator(GemmEmulator.binary().orElseThrow());
        assertThatThrownBy(() -> device.run(work, List.of()))
                .hasMessageContaining("gemm_emulator: not an input for gemm_emulator");
    }
}
