package io.tramontane.backend.cuda;

import io.tramontane.backend.Activation;
import io.tramontane.cuda.DeviceBuffer;

/**
 * A row-major FP32 matrix in device memory: {@code data} is exactly {@code rows * cols} floats at the start of
 * {@code allocation}, whose remaining bytes (at least {@link ActivationPool#GUARD_BYTES}) are never written by a
 * correct kernel (the GPU checks poison and inspect them).
 */
record CudaActivation(DeviceBuffer data, DeviceBuffer allocation, int rows, int cols) implements Activation {

    long elements() {
        return (long) rows * cols;
    }

    static CudaActivation of(Activation a) {
        if (a instanceof CudaActivation cuda) return cuda;
        throw new IllegalArgumentException("not a CUDA activation: " + a);
    }
}
