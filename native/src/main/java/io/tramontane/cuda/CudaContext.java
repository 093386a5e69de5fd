package io.tramontane.cuda;

/**
 * The primary context of one device, retained on open and released on close, and current on the opening thread.
 * Other threads that use it call {@link #makeCurrent()} first.
 */
public final class CudaContext implements AutoCloseable {
    private final CudaDriver driver;
    private final int device;
    private final Context context;
    private final DeviceInfo info;
    private boolean closed;

    private CudaContext(CudaDriver driver, int device, Context context, DeviceInfo info) {
        this.driver = driver;
        this.device = device;
        this.context = context;
        this.info = info;
    }

    /** Retains the primary context of device {@code ordinal} and makes it current on this thread. */
    public static CudaContext open(CudaDriver driver, int ordinal) {
        int device = driver.device(ordinal);
        Context context = driver.primaryContextRetain(device);
        try {
            driver.contextSetCurrent(context);
            return new CudaContext(driver, device, context, DeviceInfo.query(driver, ordinal));
        } catch (RuntimeException e) {
            driver.primaryContextRelease(device);
            throw e;
        }
    }

    public CudaDriver driver() {
        return driver;
    }

    public DeviceInfo device() {
        return info;
    }

    public void makeCurrent() {
        driver.contextSetCurrent(context);
    }

    /** Releases the primary context; the driver destroys it with the last release. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.primaryContextRelease(device);
    }
}
