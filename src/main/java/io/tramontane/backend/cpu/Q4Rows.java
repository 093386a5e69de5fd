package io.tramontane.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of {@link CpuWeights#Q4} rows with int8 activations ({@link Q4Activations}): sixteen rows with one token,
 * four rows with four tokens. A vector of 2L int16 lanes holds one word of each block of a group
 * ({@link QuantizedMatrix#Q4_GROUP}); each nibble, sign-extended by a shift pair, multiplies the token's quant of the
 * same position, and the products of a block add up in its lane, exactly (|quant x quant| &lt;= 8 x 127, 32 of them
 * fit in int16). Then, per group, lanes l &lt; L of the block sums go into FP32 accumulator 0 and lanes L.. into
 * accumulator 1: {@code acc = fma(float(sum), weightScale * activationScale, acc)} (the BF16 weight scale widened), blocks of a lane in group order; the
 * two accumulators are added and their lanes summed by the butterfly of {@link LaneSums}. In a row's last group of
 * w &lt; 2L blocks the lanes from w on hold sums of whatever lies past the group (finite integers: no load is masked;
 * masked loads cost a third of the speed) times an activation scale of 0 ({@link Q4Activations} pads them so):
 * fma(sum, &plusmn;0, acc) leaves acc as it is, as fma(0, 0, acc) would, since no accumulator is ever -0. Every (row,
 * token) sum is thus the same sequence of operations in either kernel (batch invariance); the integer block sums make
 * the order inside a group free. Nibble extraction and int16 multiply-adds cost about two thirds of what widening each
 * weight to FP32 did (2026-11-26, one thread, 5632x2048 with one token: 265 against 415 us).
 */
final class Q4Rows {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** L BF16 block scales, widened to the L lanes of an FP32 vector. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int GROUP = QuantizedMatrix.Q4_GROUP;
    /** Bytes of a group's quants: 16 a block. */
    private static final int GROUP_BYTES = GROUP * CpuWeights.BLOCK / 2;
    /** Words of a group's activation quants: 32 a block. */
    private static final int GROUP_WORDS = GROUP * CpuWeights.BLOCK;

    private Q4Rows() {}

    /**
     * Sixteen rows from {@code r} (fewer if {@code count} says so) with token {@code t}: {@code sums[k]} for row r + k,
     * their lanes summed together ({@link LaneSums#sums16}: the butterfly's pairs, without a reduction's latency at the
     * end of every row).
     */
    static void rows16(QuantizedMatrix m, int r, int count, Q4Activations x, int t, float[] sums, float[] lanes) {
        for (int k = 0; k < count; k++) chains(m, r + k, x, t, lanes, k * L, (16 + k) * L);
        LaneSums.sums16(lanes, sums);
    }

    /** Row {@code r} with token {@code t} (order: see the class): its two FP32 accumulators into {@code lanes} at {@code chain0} and {@code chain1}. */
    private static void chains(QuantizedMatrix m, int r, Q4Activations x, int t, float[] lanes, int chain0, int chain1) {
        MemorySegment q = m.quants(), s = m.scales();
        short[] xq = x.quants;
        float[] xs = x.scales;
        long q0 = m.quantOffset(r), s0 = m.scaleOffset(r);
        int x0 = x.quantOffset(t), c0 = x.scaleOffset(t), blocks = x.blocks;
        FloatVector f0 = FloatVector.zero(F), f1 = f0;
        for (int g = 0; g * GROUP < blocks; g++) {
            int w = QuantizedMatrix.q4GroupWidth(blocks, g);
            long qg = q0 + (long) g * GROUP_BYTES;
            int xg = x0 + g * GROUP_WORDS;
            ShortVector a = ShortVector.zero(S), b = a;
            for (int p = 0; p < 8; p++) {  // word p of each block: its positions 4p .. 4p + 3
                ShortVector v = ShortVector.fromMemorySegment(S, q, qg + 2L * p * w, LE);
                int xo = xg + 4 * p * w;
                a = a.add(v.lanewise(VectorOperators.LSHL, 12).lanewise(VectorOperators.ASHR, 12).mul(ShortVector.fromArray(S, xq, xo)));
                b = b.add(v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 12).mul(ShortVector.fromArray(S, xq, xo + w)));
                a = a.add(v.lanewise(VectorOperators.LSHL, 4).lanewise(VectorOperators.ASHR, 12).mul(ShortVector.fromArray(S, xq, xo + 2 * w)));
                b = b.add(v.lanewise(VectorOperators.ASHR, 12).mul(ShortVector.fromArray(S, xq, xo + 3 * w)));
            }
            a = a.add(b);
            long sg = s0 + (long) Short.BYTES * g * GROUP;
            int cg = c0 + g * GROUP;
            FloatVector scale0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(H, s, sg, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).mul(FloatVector.fromArray(F, xs, cg));
            FloatVector scale1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(H, s, sg + Short.BYTES * L, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0))
                    .mul(FloatVector.fromArray(F, xs, cg + L));
            f0 = ((FloatVector) a.convertShape(VectorOperators.S2I, I, 0).convertShape(VectorOperators.I2F, F, 0)).fma(scale0, f0);
            f1 = ((FloatVector) a.convertShape(VectorOperators.S2I, I, 1).convertShape(VectorOperators.I2F, F, 0)).fma(scale1, f1);
        }
        f0.intoArray(lanes, chain0);
        f1.intoArray(lanes, chain1);
    }

    /**
     * Rows {@code r .. r + 3} with tokens {@code t .. t + 3}: {@code sums[4 * row + token]}. Each group's sixteen int16
     * sums go through {@code blockSums} (16 x 2L words) to their FP32 accumulators, chain c of sum k at
     * {@code lanes[(16 c + k) L ..]} as {@link LaneSums#sums16} takes them.
     */
    static void tile4x4(QuantizedMatrix m, int r, Q4Activations x, int t, float[] sums, float[] lanes, short[] blockSums) {
        MemorySegment q = m.quants();
        short[] xq = x.quants;
        long qa = m.quantOffset(r), qb = m.quantOffset(r + 1), qc = m.quantOffset(r + 2), qd = m.quantOffset(r + 3);
        int xa = x.quantOffset(t), xb = x.quantOffset(t + 1), xc = x.quantOffset(t + 2), xd = x.quantOffset(t + 3);
        int blocks = x.blocks;
        Arrays.fill(lanes, 0, 32 * L, 0f);
        for (int g = 0; g * GROUP < blocks; g++) {
            int w = QuantizedMatrix.q4GroupWidth(blocks, g);
            long qg = (long) g * GROUP_BYTES;
            int xg = g * GROUP_WORDS;
            ShortVector a00 = ShortVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            ShortVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int p = 0; p < 8; p++) {
                long qo = qg + 2L * p * w;
                ShortVector va = ShortVector.fromMemorySegment(S, q, qa + qo, LE);
                ShortVector vb = ShortVector.fromMemorySegment(S, q, qb + qo, LE);
                ShortVector vc = ShortVector.fromMemorySegment(S, q, qc + qo, LE);
                ShortVector vd = ShortVector.fromMemorySegment(S, q, qd + qo, LE);
                for (int k = 0; k < 4; k++) {  // position 4p + k: nibble k of each word
                    int shift = 12 - 4 * k, xo = xg + (4 * p + k) * w;
                    ShortVector x0 = ShortVector.fromArray(S, xq, xa + xo), x1 = ShortVector.fromArray(S, xq, xb + xo);
                    ShortVector x2 = ShortVector.fromArray(S, xq, xc + xo), x3 = ShortVector.fromArray(S, xq, xd + xo);
                    ShortVector u = va.lanewise(VectorOperators.LSHL, shift).lanewise(VectorOperators.ASHR, 12);
                    a00 = a00.add(u.mul(x0));
                    a01 = a01.add(u.mul(x1));
                    a02 = a02.add(u.mul(x2));
                    a03 = a03.add(u.mul(x3));
                    u = vb.lanewise(VectorOperators.LSHL, shift).lanewise(VectorOperators.ASHR, 12);
                    a10 = a10.add(u.mul(x0));
                    a11 = a11.add(u.mul(x1));
                    a12 = a12.add(u.mul(x2));
                    a13 = a13.add(u.mul(x3));
                    u = vc.lanewise(VectorOperators.LSHL, shift).lanewise(VectorOperators.ASHR, 12);
                    a20 = a20.add(u.mul(x0));
                    a21 = a21.add(u.mul(x1));
                    a22 = a22.add(u.mul(x2));
                    a23 = a23.add(u.mul(x3));
                    u = vd.lanewise(VectorOperators.LSHL, shift).lanewise(VectorOperators.ASHR, 12);
                    a30 = a30.add(u.mul(x0));
                    a31 = a31.add(u.mul(x1));
                    a32 = a32.add(u.mul(x2));
                    a33 = a33.add(u.mul(x3));
                }
            }
            int n = 2 * L;
            a00.intoArray(blockSums, 0);
            a01.intoArray(blockSums, n);
            a02.intoArray(blockSums, 2 * n);
            a03.intoArray(blockSums, 3 * n);
            a10.intoArray(blockSums, 4 * n);
            a11.intoArray(blockSums, 5 * n);
            a12.intoArray(blockSums, 6 * n);
            a13.intoArray(blockSums, 7 * n);
            a20.intoArray(blockSums, 8 * n);
            a21.intoArray(blockSums, 9 * n);
            a22.intoArray(blockSums, 10 * n);
            a23.intoArray(blockSums, 11 * n);
            a30.intoArray(blockSums, 12 * n);
            a31.intoArray(blockSums, 13 * n);
            a32.intoArray(blockSums, 14 * n);
            a33.intoArray(blockSums, 15 * n);
            accumulate(m, r, x, t, g, blockSums, lanes);
        }
        LaneSums.sums16(lanes, sums);
    }

    /** Group {@code g}'s sixteen block sums of a 4x4 tile into their FP32 accumulators in {@code lanes}. */
    private static void accumulate(QuantizedMatrix m, int r, Q4Activations x, int t, int g, short[] blockSums, float[] lanes) {
        for (int i = 0; i < 4; i++) {
            long sg = m.scaleOffset(r + i) + (long) Short.BYTES * g * GROUP;
            FloatVector d0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(H, m.scales(), sg, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0));
            FloatVector d1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(H, m.scales(), sg + Short.BYTES * L, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0));
            for (int j = 0; j < 4; j++) {
                int k = 4 * i + j, cg = x.scaleOffset(t + j) + g * GROUP;
                FloatVector scale0 = d0.mul(FloatVector.fromArray(F, x.scales, cg)), scale1 = d1.mul(FloatVector.fromArray(F, x.scales, cg + L));
                ShortVector sum = ShortVector.fromArray(S, blockSums, 2 * L * k);
                ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 0).convertShape(VectorOperators.I2F, F, 0))
                        .fma(scale0, FloatVector.fromArray(F, lanes, k * L)).intoArray(lanes, k * L);
                ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 1).convertShape(VectorOperators.I2F, F, 0))
                        .fma(scale1, FloatVector.fromArray(F, lanes, (16 + k) * L)).intoArray(lanes, (16 + k) * L);
            }
        }
    }
}
