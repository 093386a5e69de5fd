package io.tramontane.backend.cpu;

import io.tramontane.weights.Tensor;

/**
 * {@code out[t, r] = scale * dot(w[r], x[t])} for the output rows {@code [from, to)} of one thread.
 * Few tokens (decode): the stored rows stream once, widened in registers, one row at a time for single
 * tokens (one sequential stream runs at twice the bandwidth of four interleaved rows) and four rows by four
 * tokens otherwise. Many tokens (prefill): tokens in panels that stay in L2; for each panel the rows are
 * decoded three at a time into an L1 block that serves every token of the panel, four tokens at a time, unless the
 * rows are wider than {@link #BLOCK_MAX_COLUMNS}: then the panel takes the stored rows as decode does.
 */
final class LinearKernel {
    private static final int TOKEN_PANEL = 64;
    /** Below this many tokens, widening the weights again per four tokens beats decoding them into a block. */
    private static final int FUSED_BELOW = 32;
    /**
     * Wider rows than this widen in registers at every size: four FP32 rows of more than 32 KB (two thirds of this
     * VM's 48 KB L1d) no longer stay in L1 beside the tokens, and the half-size stored rows do better (measured
     * 2026-11-26, JMH LinearBenchmark, 512 tokens, 2 threads: 2048x5632 +4% F32 to +29% e4m3; at 2048 columns the
     * block is 0-9% faster).
     */
    static final int BLOCK_MAX_COLUMNS = 2048;
    /** Stored weight bytes of a row group in {@link #storedTiles}: re-read from L2 once per four tokens. */
    private static final int GROUP_BYTES = 192 << 10;

    /** Per-thread scratch, so a decode step allocates nothing here: the pool's threads live as long as the backend. */
    private static final class Scratch {
        final float[] sums = new float[16], lanes = new float[DotKernels.LANES];
        float[] block = new float[0];

        float[] block(int floats) {
            if (block.length < floats) block = new float[floats];
            return block;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private LinearKernel() {}

    private static float fusedRow(CpuWeight cpu, int r, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        QuantizedMatrix m = cpu.quantized();
        if (m == null) return storedRow(cpu.tensor(), r, x, x0, n, vectorEnd, lanes);
        return m.format() == CpuWeights.Q8 ? Q8Rows.row(m, r, x, x0, n, vectorEnd, lanes)
                : Q4Rows.row(m, r, x, x0, n, vectorEnd, lanes);
    }

    private static float storedRow(Tensor weight, int r, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        var w = weight.storage();
        long b = weight.rowByteOffset(r);
        return switch (weight.dtype()) {
            case BF16 -> FusedRows.bf16Row(w, b, x, x0, n, vectorEnd, lanes);
            case F8_E4M3 -> FusedRows.e4m3Row(w, b, x, x0, n, vectorEnd, lanes);
            default -> FusedRows.f32Row(w, b, x, x0, n, vectorEnd, lanes);
        };
    }

    private static void fusedTile4x4(CpuWeight cpu, int r, float[] x, int x0, int n, int vectorEnd, float[] sums,
                                     float[] lanes) {
        QuantizedMatrix m = cpu.quantized();
        if (m != null) {
            if (m.format() == CpuWeights.Q8) Q8Rows.tile4x4(m, r, x, x0, n, vectorEnd, sums, lanes);
            else Q4Rows.tile4x4(m, r, x, x0, n, vectorEnd, sums, lanes);
            return;
        }
        Tensor weight = cpu.tensor();
        var w = weight.storage();
        long b0 = weight.rowByteOffset(r), b1 = weight.rowByteOffset(r + 1);
        long b2 = weight.rowByteOffset(r + 2), b3 = weight.rowByteOffset(r + 3);
        switch (weight.dtype()) {
            case BF16 -> FusedRows.bf16Tile4x4(w, b0, b1, b2, b3, x, x0, n, vectorEnd, sums, lanes);
            case F8_E4M3 -> FusedRows.e4m3Tile4x4(w, b0, b1, b2, b3, x, x0, n, vectorEnd, sums, lanes);
            default -> FusedRows.f32Tile4x4(w, b0, b1, b2, b3, x, x0, n, vectorEnd, sums, lanes);
        }
    }

    static void rows(CpuWeight weight, float[] x, int tokens, int in, int from, int to, float scale, float[] out,
                     int outStride) {
        int vectorEnd = RowBlockDecoder.vectorEnd(in, weight);
        Scratch scratch = SCRATCH.get();
        float[] sums = scratch.sums, lanes = scratch.lanes;
        if (tokens < FUSED_BELOW) {  // decode-shaped: stream the stored rows, widening in registers
            fused(weight, x, 0, tokens, in, from, to, vectorEnd, scale, out, outStride, sums, lanes);
            return;
        }
        if (weight.quantized() == null) {
            storedTiles(weight.tensor(), x, tokens, in, from, to, vectorEnd, scale, out, outStride, sums, lanes);
            return;
        }
        if (in > BLOCK_MAX_COLUMNS) {  // four FP32 rows would not stay in L1: widen the stored rows per token panel
            for (int p = 0; p < tokens; p += TOKEN_PANEL) {
                fused(weight, x, p, Math.min(tokens, p + TOKEN_PANEL), in, from, to, vectorEnd, scale, out, outStride, sums, lanes);
            }
            return;
        }
        float[] block = scratch.block(3 * in);
        for (int p = 0; p < tokens; p += TOKEN_PANEL) {
            int panelEnd = Math.min(tokens, p + TOKEN_PANEL);
            int r = from;
            for (; r + 3 <= to; r += 3) {
                RowBlockDecoder.decode(weight, r, 3, block);
                int t = p;
                for (; t + 4 <= panelEnd; t += 4) {
                    DotKernels.tile3x4(block, 0, x, t * in, in, vectorEnd, sums, lanes);
                    storeTile(sums, 3, scale, out, outStride, t, r);
                }
                for (; t < panelEnd; t++) {
                    for (int i = 0; i < 3; i++) out[t * outStride + r + i] = DotKernels.dot1(block, i * in, x, t * in, in, vectorEnd, lanes) * scale;
                }
            }
            for (; r < to; r++) {
                RowBlockDecoder.decode(weight, r, 1, block);
                for (int t = p; t < panelEnd; t++) out[t * outStride + r] = DotKernels.dot1(block, 0, x, t * in, in, vectorEnd, lanes) * scale;
            }
        }
    }

    /**
     * Prefill on stored weights: per token panel, the rows in groups that stay in L2 ({@link #GROUP_BYTES}); for each
     * four tokens of the panel (16 KB-88 KB of FP32, kept in L1 across the group) the group's rows three at a time,
     * widened in registers ({@link StoredTiles}). Rows then stream from L2 at half or a quarter of FP32's bytes, and the
     * tokens' loads, four of a tile's seven, hit L1 (measured 2026-11-26 against four rows of an FP32 block per token
     * panel: docs/cpu-kernels.md).
     */
    private static void storedTiles(Tensor weight, float[] x, int tokens, int in, int from, int to, int vectorEnd,
                                    float scale, float[] out, int outStride, float[] sums, float[] lanes) {
        var w = weight.storage();
        int triplesEnd = from + (to - from) / 3 * 3;
        int group = Math.max(3, (int) (GROUP_BYTES / ((long) in * weight.dtype().bits() / 8)) / 3 * 3);
        for (int p = 0; p < tokens; p += TOKEN_PANEL) {
            int panelEnd = Math.min(tokens, p + TOKEN_PANEL), quadsEnd = p + (panelEnd - p) / 4 * 4;
            for (int g = from; g < triplesEnd; g += group) {
                int groupEnd = Math.min(triplesEnd, g + group);
                for (int t = p; t < quadsEnd; t += 4) {
                    for (int r = g; r < groupEnd; r += 3) {
                        long ba = weight.rowByteOffset(r), bb = weight.rowByteOffset(r + 1), bc = weight.rowByteOffset(r + 2);
                        switch (weight.dtype()) {
                            case BF16 -> StoredTiles.bf16Tile3x4(w, ba, bb, bc, x, t * in, in, vectorEnd, sums, lanes);
                            case F8_E4M3 -> StoredTiles.e4m3Tile3x4(w, ba, bb, bc, x, t * in, in, vectorEnd, sums, lanes);
                            default -> StoredTiles.f32Tile3x4(w, ba, bb, bc, x, t * in, in, vectorEnd, sums, lanes);
                        }
                        storeTile(sums, 3, scale, out, outStride, t, r);
                    }
                }
            }
            for (int t = quadsEnd; t < panelEnd; t++) {
                for (int r = from; r < triplesEnd; r++) out[t * outStride + r] = storedRow(weight, r, x, t * in, in, vectorEnd, lanes) * scale;
            }
            for (int r = triplesEnd; r < to; r++) {
                for (int t = p; t < panelEnd; t++) out[t * outStride + r] = storedRow(weight, r, x, t * in, in, vectorEnd, lanes) * scale;
            }
        }
    }

    /** Tokens {@code [t0, t1)} of rows {@code [from, to)} from the stored rows, four rows by four tokens where they can. */
    private static void fused(CpuWeight weight, float[] x, int t0, int t1, int in, int from, int to, int vectorEnd, float scale,
                              float[] out, int outStride, float[] sums, float[] lanes) {
        int quadsEnd = t0 + (t1 - t0) / 4 * 4;
        int r = from;
        for (; quadsEnd > t0 && r + 4 <= to; r += 4) {
            for (int t = t0; t < quadsEnd; t += 4) {
                fusedTile4x4(weight, r, x, t * in, in, vectorEnd, sums, lanes);
                storeTile(sums, 4, scale, out, outStride, t, r);
            }
            for (int i = 0; i < 4; i++) {
                for (int t = quadsEnd; t < t1; t++) out[t * outStride + r + i] = fusedRow(weight, r + i, x, t * in, in, vectorEnd, lanes) * scale;
            }
        }
        for (; r < to; r++) {
            for (int t = t0; t < t1; t++) out[t * outStride + r] = fusedRow(weight, r, x, t * in, in, vectorEnd, lanes) * scale;
        }
    }

    /** A tile's {@code sums[4 * row + token]}, scaled, into tokens {@code t..t+3}, rows {@code r..r+rows-1} of out. */
    private static void storeTile(float[] sums, int rows, float scale, float[] out, int outStride, int t, int r) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < 4; j++) out[(t + j) * outStride + r + i] = sums[4 * i + j] * scale;
        }
    }
}
