package io.tramontane.backend.cpu;

import io.tramontane.backend.Weight;
import java.util.List;

/** One projection of every expert of a layer, each a linear in the backend's format (stored, copied, q8 or q4). */
record CpuExperts(List<Weight> experts, long rows, long cols) implements Weight {
    CpuExperts {
        experts = List.copyOf(experts);
        if (experts.isEmpty()) throw new IllegalArgumentException("no experts");
        for (Weight w : experts) {
            if (w.rows() != rows || w.cols() != cols) {
                throw new IllegalArgumentException("expert of [" + w.rows() + ", " + w.cols() + "] among [" + rows + ", " + cols + "]");
            }
        }
    }

    static CpuExperts of(Weight w) {
        if (w instanceof CpuExperts experts) return experts;
        throw new IllegalArgumentException("not CPU expert weights: " + w);
    }
}
