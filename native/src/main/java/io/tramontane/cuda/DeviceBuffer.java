package io.tramontane.cuda;

import java.util.Objects;

/**
 * A range of device memory: a CUdeviceptr and its length in bytes. Owned by the {@link DeviceArena} that
 * allocated it (slices share its lifetime); copies and launchers check their sizes against {@link #bytes()}.
 */
public record DeviceBuffer(long address, long bytes) {
    public DeviceBuffer {
        if (address == 0) throw new IllegalArgumentException("null device pointer");
        if (bytes < 0) throw new IllegalArgumentException("negative size: " + bytes);
    }

    /** The sub-range [offset, offset + length), bounds checked. */
    public DeviceBuffer slice(long offset, long length) {
        Objects.checkFromIndexSize(offset, length, bytes);
        return new DeviceBuffer(address + offset, length);
    }

    /** Throws unless this buffer holds exactly {@code expected} bytes; {@code what} names it in the message. */
    public DeviceBuffer requireBytes(long expected, String what) {
        if (bytes != expected) {
            throw new IllegalArgumentException(what + " has " + bytes + " bytes, expected " + expected);
        }
        return this;
    }
}
