package io.tramontane.cuda;

/** What Tramontane needs to know about a device: identity, size, and the numbers its rooflines use. */
public record DeviceInfo(int ordinal, String name, int computeMajor, int computeMinor, int multiprocessors,
                         long totalMemoryBytes, int maxSharedMemoryPerBlockOptin, int memoryClockKHz,
                         int memoryBusWidthBits, int l2CacheBytes) {

    /** Reads the attributes of device {@code ordinal}. */
    public static DeviceInfo query(CudaDriver driver, int ordinal) {
        int device = driver.device(ordinal);
        return new DeviceInfo(ordinal, driver.deviceName(device),
                driver.deviceAttribute(device, DeviceAttribute.COMPUTE_CAPABILITY_MAJOR),
                driver.deviceAttribute(device, DeviceAttribute.COMPUTE_CAPABILITY_MINOR),
                driver.deviceAttribute(device, DeviceAttribute.MULTIPROCESSOR_COUNT),
                driver.deviceTotalMemory(device),
                driver.deviceAttribute(device, DeviceAttribute.MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
                driver.deviceAttribute(device, DeviceAttribute.MEMORY_CLOCK_RATE),
                driver.deviceAttribute(device, DeviceAttribute.GLOBAL_MEMORY_BUS_WIDTH),
                driver.deviceAttribute(device, DeviceAttribute.L2_CACHE_SIZE));
    }

    /** "sm_90" style name of the compute capability. */
    public String smName() {
        return "sm_" + computeMajor + computeMinor;
    }

    /** Theoretical DRAM bandwidth: double data rate * clock * bus width. A datasheet figure, not a measurement. */
    public double peakBandwidthBytesPerSecond() {
        return 2.0 * memoryClockKHz * 1000.0 * memoryBusWidthBits / 8.0;
    }
}
