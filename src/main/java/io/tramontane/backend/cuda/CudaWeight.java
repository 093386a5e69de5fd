package io.tramontane.backend.cuda;

import io.tramontane.backend.Weight;
import io.tramontane.cuda.DeviceBuffer;

/**
 * A weight resident on the device: {@code rows} rows of {@code cols} elements in {@code format}, each row padded
 * with zeros to {@code stride} elements (16 bytes). {@code activationScale} is NaN unless the linear quantizes its
 * input to e4m3 first (static w8a8), as in CpuBackend.
 */
record CudaWeight(DeviceBuffer data, WeightFormat format, long rows, long cols, long stride, float weightScale,
                  float activationScale) implements Weight {

    boolean quantizesActivations() {
        return !Float.isNaN(activationScale);
    }

    static CudaWeight of(Weight w) {
        if (w instanceof CudaWeight cuda) return cuda;
        throw new IllegalArgumentException("not a CUDA weight: " + w);
    }
}
