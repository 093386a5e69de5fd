package io.tramontane.cuda;

/**
 * Entry point to the CUDA driver of this process: probes libcuda.so.1 once, on first use.
 * <pre>
 * if (!Cuda.available()) log(Cuda.probe().reason());
 * CudaDriver driver = Cuda.driver();
 * </pre>
 */
public final class Cuda {
    /** The driver library's soname, installed by the NVIDIA driver (not by the CUDA toolkit). */
    public static final String LIBRARY = "libcuda.so.1";

    private Cuda() {}

    private static final class Once {
        static final CudaProbe PROBE = CudaProbe.probe(LIBRARY);
    }

    /** The (cached) probe of libcuda.so.1; never throws. */
    public static CudaProbe probe() {
        return Once.PROBE;
    }

    public static boolean available() {
        return probe().available();
    }

    /** The initialised driver; IllegalStateException with the probe's reason when there is none. */
    public static CudaDriver driver() {
        return probe().driver().orElseThrow(() -> new IllegalStateException("CUDA unavailable: " + probe().reason()));
    }
}
