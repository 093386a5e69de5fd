package io.tramontane.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class CudaProbeTest {

    @Test
    void aMissingLibraryIsAReasonNotACrash() {
        CudaProbe probe = CudaProbe.probe("libcuda-does-not-exist.so.1");
        assertThat(probe.available()).isFalse();
        assertThat(probe.reason()).isEqualTo("libcuda-does-not-exist.so.1 not found (no NVIDIA driver installed)");
        assertThat(probe.driverVersionText()).isEqualTo("none");
    }

    @Test
    void cuInitFailureIsNamed() {
        try (FakeDriver fake = new FakeDriver()) {
            fake.initResult = FakeDriver.NO_DEVICE;
            CudaProbe probe = CudaProbe.probe(fake.lookup(Set.of()), "libfake.so");
            assertThat(probe.available()).isFalse();
            assertThat(probe.reason()).isEqualTo("cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)");
        }
    }

    @Test
    void aMissingSymbolNamesIt() {
        try (FakeDriver fake = new FakeDriver()) {
            CudaProbe probe = CudaProbe.probe(fake.lookup(Set.of("cuMemAlloc_v2")), "libfake.so");
            assertThat(probe.reason()).isEqualTo("libfake.so does not export cuMemAlloc_v2 (driver older than CUDA 12?)");
        }
    }

    @Test
    void olderDriversWithoutElapsedTimeV2StillBind() {
        try (FakeDriver fake = new FakeDriver()) {
            CudaProbe probe = CudaProbe.probe(fake.lookup(Set.of("cuEventElapsedTime_v2")), "libfake.so");
            assertThat(probe.available()).as(probe.reason()).isTrue();
            assertThat(probe.driverVersionText()).isEqualTo("13.0");
            assertThat(probe.deviceCount()).isEqualTo(1);
        }
    }

    @Test
    void thisMachinesProbeAnswersEitherWay() {
        CudaProbe probe = Cuda.probe();
        assertThat(probe.reason()).isNotBlank();
        if (!probe.available()) {
            System.err.println("CudaProbeTest: no CUDA here: " + probe.reason());
            assertThatThrownBy(Cuda::driver).isInstanceOf(IllegalStateException.class).hasMessageContaining(probe.reason());
        } else {
            assertThat(probe.deviceCount()).isPositive();
        }
    }
}
