package io.tramontane.bench.kernels;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Backend;
import io.tramontane.bench.SyntheticModel;
import io.tramontane.weights.DType;
import java.lang.foreign.Arena;

/**
 * Activations with random contents for kernel benchmarks. Backends keep activations opaque, so the
 * values go in the way the model puts them there: embedding rows of a random F32 table.
 */
final class Inputs {
    private Inputs() {}

    static Activation activation(Backend backend, Arena arena, int rows, int cols) {
        var table = backend.weight(SyntheticModel.linear(arena, "inputs", DType.F32, rows, cols, 7).weight());
        Activation x = backend.allocate(rows, cols);
        int[] ids = new int[rows];
        for (int i = 0; i < rows; i++) ids[i] = i;
        backend.embed(table, ids, x);
        return x;
    }
}
