package io.tramontane.backend.cpu;

import io.tramontane.backend.Weight;
import io.tramontane.weights.Tensor;

/**
 * A weight as the CPU backend reads it: the mapped tensor view itself (decoded inside the kernels),
 * with the FP8 scales of its linear. {@code activationScale} is NaN unless the input is to be
 * quantized to e4m3 first (static w8a8).
 */
record CpuWeight(Tensor tensor, float weightScale, float activationScale) implements Weight {

    @Override
    public long rows() {
        return tensor.rows();
    }

    @Override
    public long cols() {
        return tensor.cols();
    }

    boolean quantizesActivations() {
        return !Float.isNaN(activationScale);
    }

    static CpuWeight of(Weight w) {
        if (w instanceof CpuWeight cpu) return cpu;
        throw new IllegalArgumentException("not a CPU weight: " + w);
    }
}
