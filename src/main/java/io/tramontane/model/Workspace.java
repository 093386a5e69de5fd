package io.tramontane.model;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Backend;
import java.util.EnumMap;
import java.util.Map;

/**
 * The activations of a forward pass, kept from step to step: each slot is reallocated only when the number
 * of tokens changes, so steady decode allocates none. A model runs one forward at a time, so one
 * workspace per model suffices.
 */
final class Workspace {
    enum Slot { X, NORMED, RESIDUAL, Q, K, V, ATTENDED, GATE, UP, LAST, LAST_NORMED, LOGITS, ALL_LOGITS }

    private final Backend backend;
    private final Map<Slot, Activation> slots = new EnumMap<>(Slot.class);

    Workspace(Backend backend) {
        this.backend = backend;
    }

    /** The activation of {@code slot}, shaped {@code [rows, cols]}; its contents are whatever the last step left. */
    Activation get(Slot slot, int rows, int cols) {
        Activation a = slots.get(slot);
        if (a == null || a.rows() != rows || a.cols() != cols) {
            a = backend.allocate(rows, cols);
            slots.put(slot, a);
        }
        return a;
    }
}
