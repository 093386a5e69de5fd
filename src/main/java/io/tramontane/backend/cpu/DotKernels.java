package io.tramontane.backend.cpu;

import jdk.incubator.vector.VectorSpecies;

/**
 * The summation order every dot-product kernel of the CPU backend follows, and the vector species they share.
 *
 * <p>The order, shared by every kernel in {@link FusedRows}, {@link StoredTiles} and {@link Q8Rows} for F32, e4m3 and q8
 * rows (BF16 rows have their own, below, and q4, whose activations are int8, too: {@link Q4Rows}): a row of n features
 * is read in chunks of L (the vector length); chunk j goes
 * into lane-wise accumulator {@code j % 2} by FMA, in order (two independent chains: enough to keep a streamed row
 * ahead of the FMA latency); the two are added, the lanes summed by the fixed butterfly of
 * {@link VectorMath#sumLanes(float[], int)} ({@link LaneSums}), then the scalar tail {@code [vectorEnd, n)} is added. A
 * decode row runs both chains in one sequential pass; a tile of six rows by four tokens runs one pass per chain (over
 * the even chunks, then the odd ones) with a single accumulator per sum, which is what lets it hold 24 sums in
 * registers. Every (row, token) sum is thus the same sequence of operations whichever kernel computes it: a request
 * yields identical logits alone or in any batch, before or after the JIT compiles. (Four chains, an earlier order, made
 * the tiles run four strided passes of sixteen sums that stored partials: a third to half of their speed;
 * docs/cpu-kernels.md.)
 *
 * <p>BF16 rows are read in <em>words</em> of 2L weights, one load of L 32-bit words each: word l's low half is weight
 * 2l, its high half weight 2l + 1, and shifting the word up (or masking it) makes a float of it in one operation, where
 * widening L stored weights takes two. So for BF16 the row's first half of words (rounded up) is chain 0 and the rest
 * chain 1; word k adds its low halves, then its high halves, by FMA into its chain, lane l taking weights 2Lk + 2l and
 * 2Lk + 2l + 1; the chains are added, the lanes summed by the same butterfly, then the tail {@code [vectorEnd, n)}
 * (vectorEnd a multiple of 2L). The tokens go in the matching <em>word layout</em>: per 2L features the even ones,
 * then the odd ones ({@link RowBlockDecoder#wordTokens}). A tile then reads the stored rows as they lie, five rows by
 * four tokens, each chain a contiguous run, with no copy (the split copies that the other formats' tiles read exist to
 * make their chains contiguous).
 */
final class DotKernels {
    /**
     * The kernels' float species. Reinterpret to it (and to its int twin) with {@code reinterpretShape(F, 0)}, never
     * {@code reinterpretAsFloats()}: in JDK 25 that looks the species up through a profile the whole JVM shares, and
     * some JVMs then box the result (docs/cpu-kernels.md).
     */
    static final VectorSpecies<Float> F = VectorMath.SPECIES;
    /** Floats of the {@code lanes} scratch the kernels take: both chains of a tile's 24 accumulators. */
    static final int LANES = 48 * F.length();

    private DotKernels() {}
}
