package io.tramontane.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tramontane.cuda.Cuda;
import java.util.function.Function;

/**
 * A CudaBackend on device 0 and its {@link BackendChecks}, shared by one test class's GPU cases, or the reason they
 * are skipped (printed once, and given to each case's assumption). Open it in {@code @BeforeAll}, close it in
 * {@code @AfterAll}; {@link #checks()} skips the calling case when the device is not there.
 */
final class DeviceFixture implements AutoCloseable {
    private final CudaBackend backend;
    private final BackendChecks checks;
    private final String skipped;

    private DeviceFixture(CudaBackend backend, BackendChecks checks, String skipped) {
        this.backend = backend;
        this.checks = checks;
        this.skipped = skipped;
    }

    /** For {@code test}'s GPU cases, which need a driver. */
    static DeviceFixture open(String test) {
        return open(test, backend -> null);
    }

    /** As {@link #open(String)}, also needing what {@code requirement} says is missing on the opened backend (null: nothing). */
    static DeviceFixture open(String test, Function<CudaBackend, String> requirement) {
        String skipped = Cuda.available() ? null : "no CUDA driver: " + Cuda.probe().reason();
        CudaBackend backend = null;
        if (skipped == null) {
            backend = CudaBackend.open(CudaBackend.Options.defaults());
            skipped = requirement.apply(backend);
        }
        if (skipped != null) System.err.println("SKIPPED: " + test + " (GPU cases): " + skipped);
        return new DeviceFixture(backend, backend == null ? null : new BackendChecks(backend), skipped);
    }

    /** Skips the calling test case when the device (or a requirement) is missing. */
    void require() {
        assumeTrue(skipped == null, skipped);
    }

    /** The checks on the device, after {@link #require()}. */
    BackendChecks checks() {
        require();
        return checks;
    }

    @Override
    public void close() {
        if (checks != null) checks.close();
        if (backend != null) backend.close();
    }
}
