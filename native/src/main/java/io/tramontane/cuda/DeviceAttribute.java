package io.tramontane.cuda;

/** The CUdevice_attribute values Tramontane reads (numbers from cuda.h). */
public enum DeviceAttribute {
    /** Typical SM clock in kHz. */
    CLOCK_RATE(13),
    MULTIPROCESSOR_COUNT(16),
    /** Peak memory clock in kHz. */
    MEMORY_CLOCK_RATE(36),
    GLOBAL_MEMORY_BUS_WIDTH(37),
    L2_CACHE_SIZE(38),
    COMPUTE_CAPABILITY_MAJOR(75),
    COMPUTE_CAPABILITY_MINOR(76),
    /** The most dynamic shared memory one block may opt into with cuFuncSetAttribute. */
    MAX_SHARED_MEMORY_PER_BLOCK_OPTIN(97);

    final int value;

    DeviceAttribute(int value) {
        this.value = value;
    }
}
