package io.tramontane.backend.cpu;

import io.tramontane.backend.Activation;

/** A row-major FP32 matrix on the Java heap. */
record CpuActivation(float[] data, int rows, int cols) implements Activation {
    CpuActivation(int rows, int cols) {
        this(new float[Math.multiplyExact(rows, cols)], rows, cols);
    }

    static CpuActivation of(Activation a) {
        if (a instanceof CpuActivation cpu) return cpu;
        throw new IllegalArgumentException("not a CPU activation: " + a);
    }
}
