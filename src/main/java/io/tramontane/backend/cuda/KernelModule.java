package io.tramontane.backend.cuda;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.Kernel;
import io.tramontane.cuda.Module;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * Tramontane's kernels: the fatbin that cuda-kernels/build.sh compiles into the engine jar, loaded into the
 * current context with cuModuleLoadData. The driver picks the SASS for the device (sm_90a, sm_100a) or JIT-compiles
 * the compute_90 PTX. Close unloads the module.
 */
public final class KernelModule implements AutoCloseable {
    /** Where the build puts the fatbin on the classpath (see src/pom.xml). */
    public static final String RESOURCE = "/io/tramontane/backend/cuda/tramontane.fatbin";

    private final CudaDriver driver;
    private final Arena imageArena;
    private final Module module;

    private KernelModule(CudaDriver driver, Arena imageArena, Module module) {
        this.driver = driver;
        this.imageArena = imageArena;
        this.module = module;
    }

    /** The fatbin's bytes, or empty when the jar was built without nvcc. */
    public static Optional<byte[]> image() {
        try (InputStream in = KernelModule.class.getResourceAsStream(RESOURCE)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
    }

    /** Loads the fatbin into the current context; IllegalStateException when the jar has none. */
    public static KernelModule load(CudaDriver driver) {
        byte[] image = image().orElseThrow(() -> new IllegalStateException(
                "no " + RESOURCE + " in the jar: it was built without nvcc (see cuda-kernels/build.sh)"));
        // the image stays allocated while the module lives: the driver may read it lazily
        Arena arena = Arena.ofShared();
        try {
            MemorySegment segment = arena.allocate(image.length, 64);
            MemorySegment.copy(image, 0, segment, ValueLayout.JAVA_BYTE, 0, image.length);
            return new KernelModule(driver, arena, driver.moduleLoadData(segment));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public CudaDriver driver() {
        return driver;
    }

    /** The kernel {@code name} (an extern "C" kernel of cuda-kernels/). */
    public Kernel kernel(String name) {
        return driver.moduleGetFunction(module, name);
    }

    @Override
    public void close() {
        try {
            driver.moduleUnload(module);
        } finally {
            imageArena.close();
        }
    }
}
