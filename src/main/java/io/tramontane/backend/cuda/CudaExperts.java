package io.tramontane.backend.cuda;

import io.tramontane.backend.Weight;
import io.tramontane.cuda.DeviceBuffer;
import java.util.List;

/**
 * One projection of every expert of a layer on the device ({@code Backend.experts}): the experts' weights, all of one
 * format, shape and stride, and the per-expert tables the grouped kernels of moe.cu read: {@code pointers} (u64 device
 * address of each expert's weight), {@code activationScales} (static w8a8 input scales; all NaN, never read, without)
 * and {@code outScales} (weight scale, times the activation scale under w8a8).
 */
record CudaExperts(List<CudaWeight> experts, DeviceBuffer pointers, DeviceBuffer activationScales, DeviceBuffer outScales)
        implements Weight {

    /** The tables' host contents, after checking the experts agree in format, shape and quantization. */
    record Tables(long[] pointers, float[] activationScales, float[] outScales) {}

    CudaExperts {
        experts = List.copyOf(experts);
        tables(experts);
        Launcher.requireFloats(activationScales, experts.size(), "expert activation scales");
        Launcher.requireFloats(outScales, experts.size(), "expert output scales");
        pointers.requireBytes(experts.size() * (long) Long.BYTES, "expert pointers");
    }

    static Tables tables(List<CudaWeight> experts) {
        if (experts.isEmpty()) throw new IllegalArgumentException("no experts");
        CudaWeight first = experts.getFirst();
        long[] pointers = new long[experts.size()];
        float[] activationScales = new float[experts.size()], outScales = new float[experts.size()];
        for (int e = 0; e < experts.size(); e++) {
            CudaWeight w = experts.get(e);
            if (w.format() != first.format() || w.rows() != first.rows() || w.cols() != first.cols() || w.stride() != first.stride()) {
                throw new IllegalArgumentException("expert " + e + " is " + w.format() + " [" + w.rows() + ", " + w.cols()
                        + "], expert 0 " + first.format() + " [" + first.rows() + ", " + first.cols() + "]");
            }
            if (w.quantizesActivations() != first.quantizesActivations()) {
                throw new IllegalArgumentException("expert " + e + " and expert 0 differ in static activation quantization");
            }
            if (w.quantizesActivations() && w.format() != WeightFormat.E4M3) {
                throw new IllegalArgumentException("static activation quantization of " + w.format() + " expert weights (FP8 only)");
            }
            pointers[e] = w.data().address();
            activationScales[e] = w.activationScale();
            outScales[e] = w.weightScale() * (w.quantizesActivations() ? w.activationScale() : 1f);
        }
        return new Tables(pointers, activationScales, outScales);
    }

    WeightFormat format() {
        return experts.getFirst().format();
    }

    long stride() {
        return experts.getFirst().stride();
    }

    boolean quantizesActivations() {
        return experts.getFirst().quantizesActivations();
    }

    @Override
    public long rows() {
        return experts.getFirst().rows();
    }

    @Override
    public long cols() {
        return experts.getFirst().cols();
    }

    static CudaExperts of(Weight w) {
        if (w instanceof CudaExperts experts) return experts;
        throw new IllegalArgumentException("not CUDA expert weights: " + w);
    }
}
