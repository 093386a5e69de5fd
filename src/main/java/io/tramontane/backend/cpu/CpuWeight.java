package io.tramontane.backend.cpu;

import io.tramontane.backend.Weight;
import io.tramontane.weights.Tensor;

/**
 * A weight as the CPU backend reads it: the tensor view itself (decoded inside the kernels; mapped, or a copy),
 * with the FP8 scales of its linear. {@code activationScale} is NaN unless the input is to be
 * quantized to e4m3 first (static w8a8). A vector (norm gain) is also kept decoded in {@code values},
 * once, instead of on every use; null for matrices. A linear quantized at load time is read from
 * {@code quantized} instead of {@code tensor} (its weight scale folded in, so {@code weightScale} is 1);
 * null when the stored dtype is used.
 */
record CpuWeight(Tensor tensor, float weightScale, float activationScale, float[] values, QuantizedMatrix quantized)
        implements Weight {

    static CpuWeight linear(Tensor tensor, float weightScale, float activationScale) {
        return new CpuWeight(tensor, weightScale, activationScale, null, null);
    }

    static CpuWeight quantized(Tensor tensor, QuantizedMatrix quantized, float activationScale) {
        return new CpuWeight(tensor, 1f, activationScale, null, quantized);
    }

    static CpuWeight plain(Tensor tensor) {
        return new CpuWeight(tensor, 1f, Float.NaN, tensor.rows() == 1 ? tensor.toFloatArray() : null, null);
    }

    @Override
    public long rows() {
        return tensor.rows();
    }

    @Override
    public long cols() {
        return tensor.cols();
    }

    /** The q4 quantization of this linear (whose kernels take int8 activations, {@link Q4Activations}), else null. */
    QuantizedMatrix q4() {
        return quantized != null && quantized.format() == CpuWeights.Q4 ? quantized : null;
    }

    boolean quantizesActivations() {
        return !Float.isNaN(activationScale);
    }

    static CpuWeight of(Weight w) {
        if (w instanceof CpuWeight cpu) return cpu;
        throw new IllegalArgumentException("not a CPU weight: " + w);
    }
}
