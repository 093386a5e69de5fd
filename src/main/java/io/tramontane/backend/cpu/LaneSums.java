package io.tramontane.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The lane sums of several accumulators at once, in vector registers: each fold level adds, for two
 * vectors at a time, lane i to lane i + step of the same accumulator (step = L/2, L/4, ..., 1) and packs
 * both results into one vector, until every lane holds one accumulator's total. The pairs added are
 * exactly those of {@link VectorMath#sumLanes(float[], int)}, so each total has the same bits; but no
 * accumulator is re-read lane by lane (scalar reads of a vector store stall on store forwarding, which
 * cost the 4x4 tiles a third of their time). Kernels store their accumulators whole into a {@code lanes}
 * scratch and call these: a vector handed to a method C2 declines to inline would be boxed.
 *
 * <p>Level k takes vectors holding {@code 2^k} accumulators of {@code L >> k} lanes each; a two-source
 * permute gathers the lower halves of every group of both vectors, another the upper halves.
 */
final class LaneSums {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final FloatVector LOWER0 = halves(0, false), UPPER0 = halves(0, true);
    private static final FloatVector LOWER1 = halves(1, false), UPPER1 = halves(1, true);
    private static final FloatVector LOWER2 = halves(2, false), UPPER2 = halves(2, true);
    private static final FloatVector LOWER3 = halves(3, false), UPPER3 = halves(3, true);

    private LaneSums() {}

    /** Permute indexes into the concatenation [a, b] for fold level {@code level}; unused levels are zero. */
    private static FloatVector halves(int level, boolean upper) {
        int group = L >> level, half = group / 2;
        float[] index = new float[L];
        for (int lane = 0; half > 0 && lane < L; lane++) {
            index[lane] = (lane / half) * group + lane % half + (upper ? half : 0);
        }
        return FloatVector.fromArray(F, index, 0);
    }

    // The sums are written out in Vector API calls only, no helper methods: C2 inlines these into the big
    // kernels that call them, and once a kernel's node budget is spent it stops inlining small helpers
    // (their vectors would then be boxed) but still inlines the Vector API's own force-inlined methods.

    /** The total of the two chains in {@code lanes[0 .. 2L)}: a0 + a1, then its lanes. */
    static float sum1(float[] lanes) {
        FloatVector a = FloatVector.fromArray(F, lanes, 0).add(FloatVector.fromArray(F, lanes, L)), zero = FloatVector.zero(F);
        a = LOWER0.selectFrom(a, zero).add(UPPER0.selectFrom(a, zero));
        a = LOWER1.selectFrom(a, zero).add(UPPER1.selectFrom(a, zero));
        if (L >= 8) a = LOWER2.selectFrom(a, zero).add(UPPER2.selectFrom(a, zero));
        if (L == 16) a = LOWER3.selectFrom(a, zero).add(UPPER3.selectFrom(a, zero));
        return a.lane(0);
    }

    /**
     * {@code sums[k]} for k < 16 = the total of accumulator k's two chains: chain c lies at {@code lanes[(16 c + k) L ...]};
     * each total is c0 + c1, then its lanes.
     */
    static void sums16(float[] lanes, float[] sums) {
        sums(lanes, 0, 16 * L, sums);
    }

    /** Floats of the {@code sums} a tile's fold writes ({@link #tileSums}). */
    static final int TILE_SUMS = 32;

    /**
     * {@code sums[k]} for k < {@code count} (20 or 24) = the total of accumulator k's two chains, the layout of a
     * tile's two passes: chain c at {@code lanes[from + (24 c + k) L ...]}; each total is c0 + c1, then its lanes.
     * {@code sums} takes {@link #TILE_SUMS} floats (past {@code count} it holds zeros or is left as it was).
     */
    static void tileSums(float[] lanes, int from, int count, float[] sums) {
        sums(lanes, from, 24 * L, sums);
        sums8(lanes, from, 24 * L, sums, count - 16);  // the last 4 or 8 on a network of their width
    }

    /**
     * Sixteen accumulators whose chains lie at {@code lanes[from + k L ...]} and {@code chain1} floats further, combined
     * (c0 + c1) as they are loaded and their lanes folded into {@code sums[k]}. Combining on load, not in a pass that
     * stores the sums back, spares each tile twenty stores and the loads that waited on them.
     */
    private static void sums(float[] lanes, int from, int chain1, float[] sums) {
        int at1 = from + chain1;
        FloatVector a0 = FloatVector.fromArray(F, lanes, from).add(FloatVector.fromArray(F, lanes, at1));
        FloatVector a1 = FloatVector.fromArray(F, lanes, from + L).add(FloatVector.fromArray(F, lanes, at1 + L));
        FloatVector a2 = FloatVector.fromArray(F, lanes, from + 2 * L).add(FloatVector.fromArray(F, lanes, at1 + 2 * L));
        FloatVector a3 = FloatVector.fromArray(F, lanes, from + 3 * L).add(FloatVector.fromArray(F, lanes, at1 + 3 * L));
        FloatVector a4 = FloatVector.fromArray(F, lanes, from + 4 * L).add(FloatVector.fromArray(F, lanes, at1 + 4 * L));
        FloatVector a5 = FloatVector.fromArray(F, lanes, from + 5 * L).add(FloatVector.fromArray(F, lanes, at1 + 5 * L));
        FloatVector a6 = FloatVector.fromArray(F, lanes, from + 6 * L).add(FloatVector.fromArray(F, lanes, at1 + 6 * L));
        FloatVector a7 = FloatVector.fromArray(F, lanes, from + 7 * L).add(FloatVector.fromArray(F, lanes, at1 + 7 * L));
        FloatVector a8 = FloatVector.fromArray(F, lanes, from + 8 * L).add(FloatVector.fromArray(F, lanes, at1 + 8 * L));
        FloatVector a9 = FloatVector.fromArray(F, lanes, from + 9 * L).add(FloatVector.fromArray(F, lanes, at1 + 9 * L));
        FloatVector a10 = FloatVector.fromArray(F, lanes, from + 10 * L).add(FloatVector.fromArray(F, lanes, at1 + 10 * L));
        FloatVector a11 = FloatVector.fromArray(F, lanes, from + 11 * L).add(FloatVector.fromArray(F, lanes, at1 + 11 * L));
        FloatVector a12 = FloatVector.fromArray(F, lanes, from + 12 * L).add(FloatVector.fromArray(F, lanes, at1 + 12 * L));
        FloatVector a13 = FloatVector.fromArray(F, lanes, from + 13 * L).add(FloatVector.fromArray(F, lanes, at1 + 13 * L));
        FloatVector a14 = FloatVector.fromArray(F, lanes, from + 14 * L).add(FloatVector.fromArray(F, lanes, at1 + 14 * L));
        FloatVector a15 = FloatVector.fromArray(F, lanes, from + 15 * L).add(FloatVector.fromArray(F, lanes, at1 + 15 * L));
        FloatVector b0 = LOWER0.selectFrom(a0, a1).add(UPPER0.selectFrom(a0, a1));
        FloatVector b1 = LOWER0.selectFrom(a2, a3).add(UPPER0.selectFrom(a2, a3));
        FloatVector b2 = LOWER0.selectFrom(a4, a5).add(UPPER0.selectFrom(a4, a5));
        FloatVector b3 = LOWER0.selectFrom(a6, a7).add(UPPER0.selectFrom(a6, a7));
        FloatVector b4 = LOWER0.selectFrom(a8, a9).add(UPPER0.selectFrom(a8, a9));
        FloatVector b5 = LOWER0.selectFrom(a10, a11).add(UPPER0.selectFrom(a10, a11));
        FloatVector b6 = LOWER0.selectFrom(a12, a13).add(UPPER0.selectFrom(a12, a13));
        FloatVector b7 = LOWER0.selectFrom(a14, a15).add(UPPER0.selectFrom(a14, a15));
        // four vectors of four accumulators of L/4 lanes each
        FloatVector c0 = LOWER1.selectFrom(b0, b1).add(UPPER1.selectFrom(b0, b1));
        FloatVector c1 = LOWER1.selectFrom(b2, b3).add(UPPER1.selectFrom(b2, b3));
        FloatVector c2 = LOWER1.selectFrom(b4, b5).add(UPPER1.selectFrom(b4, b5));
        FloatVector c3 = LOWER1.selectFrom(b6, b7).add(UPPER1.selectFrom(b6, b7));
        if (L == 4) {
            c0.intoArray(sums, 0);
            c1.intoArray(sums, 4);
            c2.intoArray(sums, 8);
            c3.intoArray(sums, 12);
            return;
        }
        FloatVector d0 = LOWER2.selectFrom(c0, c1).add(UPPER2.selectFrom(c0, c1));
        FloatVector d1 = LOWER2.selectFrom(c2, c3).add(UPPER2.selectFrom(c2, c3));
        if (L == 8) {
            d0.intoArray(sums, 0);
            d1.intoArray(sums, 8);
        } else {
            LOWER3.selectFrom(d0, d1).add(UPPER3.selectFrom(d0, d1)).intoArray(sums, 0);
        }
    }

    /**
     * As {@link #sums} for accumulators 16 .. 16 + count (count 4 or 8) into {@code sums[16 ...]}, on a network that
     * narrow: the 16-wide one would fold zeros for the rest (a tile's last four or eight sums: a third of its fold's
     * permutes). Writes {@code sums[16 .. 24)} ({@code 16 .. 32} with 16 lanes), zeros past count. Its
     * unloaded vectors start as a zero made here: a static vector constant merged with loaded ones made C2 box them,
     * an allocation per vector in every call (LinearKernelAllocationTest).
     */
    private static void sums8(float[] lanes, int from, int chain1, float[] sums, int count) {
        int at = from + 16 * L, at1 = at + chain1, to = 16;
        FloatVector zero = FloatVector.zero(F);
        FloatVector a0 = FloatVector.fromArray(F, lanes, at).add(FloatVector.fromArray(F, lanes, at1));
        FloatVector a1 = FloatVector.fromArray(F, lanes, at + L).add(FloatVector.fromArray(F, lanes, at1 + L));
        FloatVector a2 = FloatVector.fromArray(F, lanes, at + 2 * L).add(FloatVector.fromArray(F, lanes, at1 + 2 * L));
        FloatVector a3 = FloatVector.fromArray(F, lanes, at + 3 * L).add(FloatVector.fromArray(F, lanes, at1 + 3 * L));
        FloatVector b0 = LOWER0.selectFrom(a0, a1).add(UPPER0.selectFrom(a0, a1));
        FloatVector b1 = LOWER0.selectFrom(a2, a3).add(UPPER0.selectFrom(a2, a3));
        FloatVector c1 = zero;
        if (count > 4) {
            FloatVector a4 = FloatVector.fromArray(F, lanes, at + 4 * L).add(FloatVector.fromArray(F, lanes, at1 + 4 * L));
            FloatVector a5 = FloatVector.fromArray(F, lanes, at + 5 * L).add(FloatVector.fromArray(F, lanes, at1 + 5 * L));
            FloatVector a6 = FloatVector.fromArray(F, lanes, at + 6 * L).add(FloatVector.fromArray(F, lanes, at1 + 6 * L));
            FloatVector a7 = FloatVector.fromArray(F, lanes, at + 7 * L).add(FloatVector.fromArray(F, lanes, at1 + 7 * L));
            FloatVector b2 = LOWER0.selectFrom(a4, a5).add(UPPER0.selectFrom(a4, a5));
            FloatVector b3 = LOWER0.selectFrom(a6, a7).add(UPPER0.selectFrom(a6, a7));
            c1 = LOWER1.selectFrom(b2, b3).add(UPPER1.selectFrom(b2, b3));
        }
        FloatVector c0 = LOWER1.selectFrom(b0, b1).add(UPPER1.selectFrom(b0, b1));
        if (L == 4) {
            c0.intoArray(sums, to);
            c1.intoArray(sums, to + 4);
            return;
        }
        FloatVector d0 = LOWER2.selectFrom(c0, c1).add(UPPER2.selectFrom(c0, c1));
        if (L == 8) d0.intoArray(sums, to);
        else LOWER3.selectFrom(d0, zero).add(UPPER3.selectFrom(d0, zero)).intoArray(sums, to);
    }
}
