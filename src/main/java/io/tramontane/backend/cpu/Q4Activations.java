package io.tramontane.backend.cpu;

import java.util.Arrays;

/**
 * The input tokens of a q4 linear quantized to int8, as llama.cpp quantizes activations for its Q4_0 dot products:
 * per block of {@link CpuWeights#BLOCK} features, {@code scale = maxabs / 127} and {@code q = clamp(rint(x * (127.0 /
 * maxabs)), -127, 127)} in double (an all-zero block has scale 0 and zero quants; a block holding NaN or an infinity gets a NaN
 * or infinite scale, so the output shows it). Quants are int16 words in the weights' group layout
 * ({@link QuantizedMatrix#Q4_GROUP}): token t's start at {@link #quantOffset}; in its group g of w blocks, word
 * {@code 32 Q4_GROUP g + j w + l} holds position j of the group's block l; features past the row's end are zero.
 * {@link #quants} holds {@code tokens * blocks * 32} words, then one group's words of slack so every vector load stays
 * inside; {@link #scales} the block scales, {@link #scaleOffset} a token, each token's padded with zeros to whole groups
 * (the kernels' scale of the lanes past a row's last block). Each calling thread reuses one
 * instance, grown as needed up to {@link #KEPT_WORDS}, so a decode step allocates nothing here: it is valid until that
 * thread's next call.
 */
final class Q4Activations {
    private static final int BLOCK = CpuWeights.BLOCK;
    private static final int GROUP = QuantizedMatrix.Q4_GROUP;
    private static final ThreadLocal<Q4Activations> SCRATCH = ThreadLocal.withInitial(Q4Activations::new);
    /** Words of quants a thread keeps between calls: 8 MB, 64 tokens of 64K features. */
    private static final int KEPT_WORDS = 4 << 20;

    int tokens, cols, blocks, scaleStride;
    short[] quants = new short[0];
    float[] scales = new float[0];

    private Q4Activations() {}

    /**
     * Tokens {@code x[t * cols ...]}, t below {@code tokens}, quantized; tokens split over {@code threads} when many.
     * Above {@link #KEPT_WORDS} words (a long prefill) the arrays are the call's own, so a thread does not hold them.
     */
    static Q4Activations quantize(float[] x, int tokens, int cols, CpuThreads threads) {
        int blocks = CpuWeights.blocksPerRow(cols), words = tokens * blocks * BLOCK + GROUP * BLOCK;
        Q4Activations a = words > KEPT_WORDS ? new Q4Activations() : SCRATCH.get();
        a.tokens = tokens;
        a.cols = cols;
        a.blocks = blocks;
        a.scaleStride = (blocks + GROUP - 1) / GROUP * GROUP;
        if (a.quants.length < words) a.quants = new short[words];
        if (a.scales.length < tokens * a.scaleStride) a.scales = new float[tokens * a.scaleStride];
        if (tokens < 8) a.quantize(x, 0, tokens);
        else threads.parallelFor(tokens, 1, (from, to) -> a.quantize(x, from, to));
        return a;
    }

    int quantOffset(int token) {
        return token * blocks * BLOCK;
    }

    int scaleOffset(int token) {
        return token * scaleStride;
    }

    private void quantize(float[] x, int from, int to) {
        for (int t = from; t < to; t++) {
            for (int b = 0; b < blocks; b++) {
                int start = t * cols + b * BLOCK, count = Math.min(BLOCK, cols - b * BLOCK);
                float maxAbs = 0;
                for (int i = 0; i < count; i++) maxAbs = Math.max(maxAbs, Math.abs(x[start + i]));  // NaN propagates
                double inverse = maxAbs == 0 ? 0 : 127.0 / maxAbs;  // in double: 127 / maxAbs overflows FP32 below ~3.7e-37
                scales[scaleOffset(t) + b] = maxAbs / 127;
                int g = b / GROUP, width = QuantizedMatrix.q4GroupWidth(blocks, g);
                int o = quantOffset(t) + g * GROUP * BLOCK + b % GROUP;
                for (int i = 0; i < BLOCK; i++) {
                    quants[o + i * width] = i < count ? (short) Math.clamp((long) Math.rint(x[start + i] * inverse), -127, 127) : 0;
                }
            }
            Arrays.fill(scales, scaleOffset(t) + blocks, scaleOffset(t + 1), 0f);
        }
    }
}
