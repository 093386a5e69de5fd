package io.tramontane.backend.cpu;

import jdk.incubator.vector.VectorSpecies;

/**
 * The summation order every dot-product kernel of the CPU backend follows, and the vector species they share.
 *
 * <p>The order, shared by every kernel in {@link FusedRows}, {@link StoredTiles} and {@link Q8Rows} (q4, whose activations
 * are int8, has its own: {@link Q4Rows}): a row of n features is read in chunks of L (the vector length); chunk j goes
 * into lane-wise accumulator {@code j % 2} by FMA, in order (two independent chains: enough to keep a streamed row
 * ahead of the FMA latency); the two are added, the lanes summed by the fixed butterfly of
 * {@link VectorMath#sumLanes(float[], int)} ({@link LaneSums}), then the scalar tail {@code [vectorEnd, n)} is added. A
 * decode row runs both chains in one sequential pass; a tile of six rows by four tokens runs one pass per chain (over
 * the even chunks, then the odd ones) with a single accumulator per sum, which is what lets it hold 24 sums in
 * registers. Every (row, token) sum is thus the same sequence of operations whichever kernel computes it: a request
 * yields identical logits alone or in any batch, before or after the JIT compiles. (Four chains, an earlier order, made
 * the tiles run four strided passes of sixteen sums that stored partials: a third to half of their speed;
 * docs/cpu-kernels.md.)
 */
final class DotKernels {
    static final VectorSpecies<Float> F = VectorMath.SPECIES;
    /** Floats of the {@code lanes} scratch the kernels take: both chains of a tile's 24 accumulators. */
    static final int LANES = 48 * F.length();

    private DotKernels() {}
}
