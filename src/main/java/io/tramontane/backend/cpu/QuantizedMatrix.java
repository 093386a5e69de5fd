package io.tramontane.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A linear weight quantized at load time (see {@link Quantizer}): row {@code r}'s quants are contiguous at
 * {@link #quantOffset(int)} in {@code quants}, one block of {@link CpuWeights#BLOCK} input features after
 * another ({@link CpuWeights#Q8}: one signed byte per weight; {@link CpuWeights#Q4}: 16 bytes per block of signed
 * nibbles, see {@link #q4Byte(int)}), and its block scales are contiguous FP32s at {@link #scaleOffset(int)} in
 * {@code scales}. Weight = FP32(quant) x scale, one rounded FP32 multiply that every kernel and the block decoder
 * compute alike, so all see the same values. The last block of a row whose length is not a multiple of 32 is padded
 * with zero quants. Both segments belong to the backend's arena, freed when it closes.
 *
 * @param name the tensor it was made from, for messages
 */
record QuantizedMatrix(String name, CpuWeights format, int rows, int cols, MemorySegment quants, MemorySegment scales) {
    static final ValueLayout.OfFloat SCALE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /**
     * Bytes allocated past the last quant: a vector load of fewer than 8 lanes still reads 8 bytes (the smallest
     * byte vector), which may reach past the end of the last row. Never part of any weight.
     */
    static final int SLACK = 8;

    /**
     * Q4 nibbles pair the weights of two consecutive vector chunks of a block: one load of {@code Q4_PAIR} bytes
     * gives chunk 2g in its low nibbles and chunk 2g + 1 in its high nibbles, so the kernels widen each byte once
     * and still take the chunks in order. With 16 lanes (AVX-512) this is llama.cpp's Q4_0 order: byte j holds
     * weights j and j + 16. The layout lives only in memory, so it may follow the machine's vector width.
     */
    static final int Q4_PAIR = DotKernels.F.length();
    private static final int L = Q4_PAIR;

    /** The byte of a q4 block holding its weight {@code w} (0..31). */
    static int q4Byte(int w) {
        return w / (2 * Q4_PAIR) * Q4_PAIR + w % Q4_PAIR;
    }

    /** True when a q4 block keeps its weight {@code w} in the high nibble of {@link #q4Byte(int)}. */
    static boolean q4High(int w) {
        return w / Q4_PAIR % 2 == 1;
    }

    /*
     * Scale offsets of the kernels' loops, as linear functions of the loop counter (C2 then drops the bounds checks;
     * i / BLOCK is not linear). With L lanes a step of the one-row loops covers chunks 4p .. 4p + 3 (features 4Lp ..),
     * a step of the 4x4 passes chunk 4k + pass; below 8 lanes two steps share a block, which no linear form gives.
     */

    /** Byte offset, within a row's scales, of the block holding chunks 4p and 4p + 1 (step p of a one-row loop). */
    static long stepScale(int p) {
        return CpuWeights.SCALE_BYTES * (L >= 8 ? (long) p * (4 * L / CpuWeights.BLOCK) : p / 2);
    }

    /** From the scale of chunks 4p, 4p + 1 to that of chunks 4p + 2, 4p + 3: the next block with 16 lanes. */
    static final int SECOND_HALF_STEP = 2 * L >= CpuWeights.BLOCK ? CpuWeights.SCALE_BYTES : 0;

    /** Byte offset, within a row's scales, of the block holding chunks 2k and 2k + 1 (pair k of a tile's single pass). */
    static long pairScale(int k) {
        return CpuWeights.SCALE_BYTES * ((long) k * (2 * L) / CpuWeights.BLOCK);
    }

    int blocksPerRow() {
        return CpuWeights.blocksPerRow(cols);
    }

    long quantOffset(int row) {
        return (long) row * blocksPerRow() * format.quantBytesPerBlock();
    }

    long scaleOffset(int row) {
        return (long) row * blocksPerRow() * CpuWeights.SCALE_BYTES;
    }

    /** The scale of block {@code block} of row {@code row}. */
    float scale(int row, int block) {
        return scales.get(SCALE, scaleOffset(row) + (long) CpuWeights.SCALE_BYTES * block);
    }

    /** Resident bytes of quants and scales, padding included (what a step reads). */
    long bytes() {
        return format.bytes(rows, cols);
    }
}
