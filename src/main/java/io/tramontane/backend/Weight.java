package io.tramontane.backend;

/** A weight in a backend's resident form (mapped bytes, packed panels, device memory). */
public interface Weight {
    /** Output features of a matrix; length of a vector. */
    long rows();

    /** Input features of a matrix; 1 for a vector. */
    long cols();
}
