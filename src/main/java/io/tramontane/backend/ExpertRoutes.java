package io.tramontane.backend;

/**
 * A batch's expert routing as a backend keeps it ({@link Backend#routeExperts}): which {@code topK} experts each of
 * {@code tokens} tokens goes to, with what weight, and the routed rows ({@code tokens * topK} of them) sorted by expert
 * then token. Opaque to the model: on a device the routes never leave it.
 */
public interface ExpertRoutes {
    int tokens();

    int topK();

    int experts();

    /** Routed rows: one per (token, slot). */
    default int rows() {
        return tokens() * topK();
    }
}
