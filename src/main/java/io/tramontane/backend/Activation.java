package io.tramontane.backend;

/** A backend-resident FP32 activation matrix {@code [rows, cols]} (rows are tokens). */
public interface Activation {
    int rows();

    int cols();
}
