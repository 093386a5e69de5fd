package io.tramontane.backend.cpu;

import jdk.incubator.vector.VectorSpecies;

/**
 * The summation order every dot-product kernel of the CPU backend follows, and the vector species they share.
 *
 * <p>The order, shared by every kernel in {@link FusedRows}, {@link StoredTiles} and {@link Q8Rows} (q4, whose activations are int8, has its own: {@link Q4Rows}): a row of n
 * features is read in chunks of L (the vector length); chunk j goes into lane-wise accumulator {@code j % 2} by FMA, in
 * order (two independent chains: enough to keep a streamed row ahead of the FMA latency); the two are added, the lanes
 * summed by the fixed butterfly of {@link VectorMath#sumLanes(float[], int)} ({@link LaneSums}), then the scalar tail
 * {@code [vectorEnd, n)} is added. The 4x4 tiles (e4m3, q8) run as two halves of two rows by four tokens, the
 * 3x4 tiles ({@link StoredTiles}) as one pass of three rows; each pass keeps both chains of its sums in registers. Every (row, token) sum is thus the same
 * sequence of operations whichever kernel computes it: a request yields identical logits alone or in any batch,
 * before or after the JIT compiles. (Four chains, the earlier order, made the tiles run four strided passes that
 * stored partials: a third to half of their speed, docs/cpu-kernels.md.)
 */
final class DotKernels {
    static final VectorSpecies<Float> F = VectorMath.SPECIES;
    /** Floats of the {@code lanes} scratch the kernels take: two chains of sixteen accumulators. */
    static final int LANES = 32 * F.length();

    private DotKernels() {}
}
