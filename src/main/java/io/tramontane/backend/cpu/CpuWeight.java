package io.tramontane.backend.cpu;

import io.tramontane.backend.Weight;
import io.tramontane.weights.Tensor;
import java.lang.foreign.MemorySegment;

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

    /**
     * A linear read as stored, which must lie in native memory (mapped, or a copy: {@link CpuBackend#linear} copies one on
     * the Java heap). At 4 lanes C2 cannot load an int vector from a byte[] and runs that load as Java, allocating; and
     * a kernel compiled after it has read both a heap and a native segment boxes its vectors on the native path too
     * (24 KB a call of an 8-token BF16 linear, measured with -XX:-TieredCompilation; in one CI run of the suite, 1 KB a
     * tile for its whole last minute).
     */
    static CpuWeight linear(Tensor tensor, float weightScale, float activationScale) {
        requireNative(tensor.name(), tensor.storage());
        return new CpuWeight(tensor, weightScale, activationScale, null, null);
    }

    static CpuWeight quantized(Tensor tensor, QuantizedMatrix quantized, float activationScale) {
        requireNative(quantized.name() + " (quants)", quantized.quants());
        requireNative(quantized.name() + " (scales)", quantized.scales());
        return new CpuWeight(tensor, 1f, activationScale, null, quantized);
    }

    private static void requireNative(String name, MemorySegment storage) {
        if (!storage.isNative()) {
            throw new IllegalArgumentException("CPU linear " + name + " lies on the Java heap: its kernels read native memory only");
        }
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
