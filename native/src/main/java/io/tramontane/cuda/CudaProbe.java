package io.tramontane.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.Optional;

/**
 * Whether the CUDA driver can be used here, and if not, why, in words: "libcuda.so.1 not found (no NVIDIA
 * driver installed)", "cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)". Probing never
 * throws; on success it holds the initialised driver.
 *
 * @param driverVersion 1000 * major + 10 * minor (e.g. 13000), 0 when unavailable
 */
public record CudaProbe(Optional<CudaDriver> driver, String reason, int driverVersion, int deviceCount) {

    public boolean available() {
        return driver.isPresent();
    }

    /** "13.0", or "none" without a driver. */
    public String driverVersionText() {
        return driverVersion == 0 ? "none" : driverVersion / 1000 + "." + driverVersion % 1000 / 10;
    }

    /** Loads {@code library} (e.g. libcuda.so.1), binds the driver API, calls cuInit and counts devices. */
    public static CudaProbe probe(String library) {
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException e) {  // dlopen failed
            return unavailable(library + " not found (no NVIDIA driver installed)");
        } catch (IllegalCallerException e) {
            return unavailable("native access is disabled: run java with --enable-native-access=ALL-UNNAMED");
        }
        return probe(lookup, library);
    }

    /** Probes the driver API as exported by {@code lookup}; {@code library} names it in reasons. */
    static CudaProbe probe(SymbolLookup lookup, String library) {
        CudaDriver driver;
        try {
            driver = CudaDriver.bind(lookup);
        } catch (IllegalStateException e) {
            return unavailable(library + " " + e.getMessage() + " (driver older than CUDA 12?)");
        } catch (IllegalCallerException e) {
            return unavailable("native access is disabled: run java with --enable-native-access=ALL-UNNAMED");
        }
        try {
            driver.init();
        } catch (CudaException e) {
            return unavailable("cuInit failed: " + e.resultText());
        }
        try {
            int version = driver.driverVersion();
            int devices = driver.deviceCount();
            if (devices == 0) return new CudaProbe(Optional.empty(), "the driver reports no CUDA device", version, 0);
            return new CudaProbe(Optional.of(driver), "CUDA driver available", version, devices);
        } catch (CudaException e) {
            return unavailable(e.getMessage());
        }
    }

    private static CudaProbe unavailable(String reason) {
        return new CudaProbe(Optional.empty(), reason, 0, 0);
    }
}
