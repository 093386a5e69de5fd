package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** The launcher up to the FFM boundary: launch shape and the kernel's parameter block. No GPU needed. */
class RmsNormKernelTest {
    private static final DeviceBuffer X = new DeviceBuffer(0x10000, 3 * 7 * 4);
    private static final DeviceBuffer W = new DeviceBuffer(0x20000, 7 * 4);
    private static final DeviceBuffer Y = new DeviceBuffer(0x30000, 3 * 7 * 4);

    @Test
    void oneBlockPerRowOfWholeWarpsUpTo1024Threads() {
        assertThat(RmsNormKernel.config(3, 7)).isEqualTo(new LaunchConfig(Dim3.of(3), Dim3.of(32), 0));
        assertThat(RmsNormKernel.config(1, 33).block()).isEqualTo(Dim3.of(64));
        assertThat(RmsNormKernel.config(2, 1024).block()).isEqualTo(Dim3.of(1024));
        assertThat(RmsNormKernel.config(2, 12289).block()).isEqualTo(Dim3.of(1024));
        assertThatThrownBy(() -> RmsNormKernel.config(0, 8)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parametersAreXWYDimEpsInKernelOrder() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = RmsNormKernel.arguments(new KernelArgs(arena, 5), X, W, Y, 3, 7, 1e-6f);
            assertThat(args.count()).isEqualTo(5);
            long[] slots = new long[5];
            for (int i = 0; i < 5; i++) slots[i] = args.array().getAtIndex(ADDRESS, i).reinterpret(8).get(JAVA_LONG, 0);
            assertThat(slots).containsExactly(0x10000, 0x20000, 0x30000, 7, Float.floatToRawIntBits(1e-6f));
        }
    }

    @Test
    void buffersMustMatchTheShape() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena, 5);
            assertThatThrownBy(() -> RmsNormKernel.arguments(args, X, W, Y, 4, 7, 1e-6f))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("x has 84 bytes, expected 112");
            assertThatThrownBy(() -> RmsNormKernel.arguments(args, X, X, Y, 3, 7, 1e-6f)).hasMessageStartingWith("w has");
            assertThatThrownBy(() -> RmsNormKernel.arguments(args, X, W, Y, 3, 7, Float.NaN)).hasMessageContaining("eps");
        }
    }
}
