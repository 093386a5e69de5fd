package io.tramontane.backend.cpu;

import io.tramontane.weights.Floats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A linear weight quantized at load time (see {@link Quantizer}): row {@code r}'s quants are contiguous at
 * {@link #quantOffset(int)} in {@code quants} ({@link CpuWeights#Q8}: one signed byte per weight, one block of
 * {@link CpuWeights#BLOCK} input features after another; {@link CpuWeights#Q4}: 16 bytes per block, in the
 * block-interleaved groups of {@link #Q4_GROUP}), and its block scales are contiguous at {@link #scaleOffset(int)} in
 * {@code scales} (q8: FP32, q4: BF16, little-endian). A q8 weight is FP32(quant) x scale, one rounded FP32 multiply that every q8 kernel and the block
 * decoder compute alike; q4 kernels multiply quants by int8 activations ({@link Q4Rows}). The last block of a row whose
 * length is not a multiple of 32 is padded with zero quants. Both segments belong to the backend's arena, freed when it
 * closes.
 *
 * @param name the tensor it was made from, for messages
 */
record QuantizedMatrix(String name, CpuWeights format, int rows, int cols, MemorySegment quants, MemorySegment scales) {
    static final ValueLayout.OfFloat SCALE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /**
     * Bytes allocated past the last quant and past the last scale: the q4 kernels load a row's last group of quants (one
     * vector, 64 bytes at most) and of BF16 scales (two half vectors, 64 bytes) whole, however few blocks it has; the
     * lanes past the row's end are never part of a sum ({@link Q4Rows}). A q8 byte vector of fewer than 8 lanes still reads
     * 8 bytes.
     */
    static final int SLACK = 2 * 4 * 16;
    private static final int L = DotKernels.F.length();
    private static final int Q8_SCALE_BYTES = CpuWeights.Q8.scaleBytes();
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Q4 blocks a row's quants interleave (2L with L float lanes: 32 with AVX-512), so that a vector of int16 lanes holds
     * one word of each block of a group (see {@link Q4Rows}). Group g of a row (blocks {@code g Q4_GROUP ..}, fewer in
     * the row's last) starts at byte {@code 16 Q4_GROUP g}; in a group of w blocks, the little-endian 16-bit word
     * {@code p w + l} (p = 0..7) holds the quants of positions {@code 4p .. 4p + 3} of the group's block l, position
     * {@code 4p + k} in bits {@code 4k .. 4k + 3}, two's complement. The layout lives only in memory, so it may follow
     * the machine's vector width.
     */
    static final int Q4_GROUP = 2 * L;

    /** The blocks of q4 group {@code g} in a row of {@code blocks} blocks: {@link #Q4_GROUP}, fewer in the last. */
    static int q4GroupWidth(int blocks, int g) {
        return Math.min(Q4_GROUP, blocks - g * Q4_GROUP);
    }

    /*
     * Block indices of the q8 kernels' loops, as linear functions of the loop counter (C2 then drops the bounds checks;
     * i / BLOCK is not linear). With L lanes a step of the one-row loops covers chunks 4p .. 4p + 3 (features 4Lp ..),
     * step k of a six-row tile's pass over chain c chunk 2k + c; below 8 lanes two one-row steps share a block, which no
     * linear form gives.
     */

    /** The block, within a row, holding chunks 4p and 4p + 1 (step p of a one-row loop). */
    static int stepBlock(int p) {
        return L >= 8 ? p * (4 * L / CpuWeights.BLOCK) : p / 2;
    }

    /** From the block of chunks 4p, 4p + 1 to that of chunks 4p + 2, 4p + 3: the next block with 16 lanes. */
    static final int SECOND_HALF_BLOCK = 2 * L >= CpuWeights.BLOCK ? 1 : 0;

    /** The block, within a row, holding chunks 2k and 2k + 1 (step k of a tile's passes). */
    static int pairBlock(int k) {
        return k * (2 * L) / CpuWeights.BLOCK;
    }

    /** Byte offset, within a row's scales, of the block holding chunks 2k and 2k + 1 (step k of a tile's passes). */
    static long pairScale(int k) {
        return Q8_SCALE_BYTES * (long) pairBlock(k);
    }

    int blocksPerRow() {
        return CpuWeights.blocksPerRow(cols);
    }

    long quantOffset(int row) {
        return (long) row * blocksPerRow() * format.quantBytesPerBlock();
    }

    long scaleOffset(int row) {
        return (long) row * blocksPerRow() * format.scaleBytes();
    }

    /** The scale of block {@code block} of row {@code row}. */
    float scale(int row, int block) {
        long at = scaleOffset(row) + (long) format.scaleBytes() * block;
        return format == CpuWeights.Q4 ? Floats.bf16ToFloat(scales.get(BF16, at)) : scales.get(SCALE, at);
    }

    /** Resident bytes of quants and scales, padding included (what a step reads). */
    long bytes() {
        return format.bytes(rows, cols);
    }
}
