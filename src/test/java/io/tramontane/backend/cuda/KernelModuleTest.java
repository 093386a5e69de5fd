package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KernelModuleTest {
    /** The first word of every fatbin container (fatbinary.h's FATBIN_MAGIC), little-endian in the file. */
    private static final int FATBIN_MAGIC = 0xBA55ED50;

    @Test
    void theFatbinIsOnTheClasspathWheneverNvccBuiltIt() {
        boolean nvcc = CudaToolkit.nvcc().isPresent();
        Optional<byte[]> image = KernelModule.image();
        if (!nvcc) {
            System.err.println("SKIPPED: KernelModuleTest: nvcc not found, so the build made no fatbin");
            assumeTrue(false, "nvcc not found: the build skipped the CUDA kernels");
        }
        assertThat(image).as("fatbin built by cuda-kernels/build.sh").isPresent();
        assertThat(ByteBuffer.wrap(image.orElseThrow()).order(ByteOrder.LITTLE_ENDIAN).getInt(0)).isEqualTo(FATBIN_MAGIC);
    }
}
