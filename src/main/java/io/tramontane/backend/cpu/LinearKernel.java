package io.tramontane.backend.cpu;

import io.tramontane.weights.Tensor;

/**
 * {@code out[t, r] = scale * dot(w[r], x[t])} for the output rows {@code [from, to)} of one thread.
 * Few tokens (decode): the stored rows stream once, widened in registers, one row at a time for single
 * tokens (one sequential stream runs at twice the bandwidth of four interleaved rows) and four rows by four
 * tokens otherwise. Many tokens (prefill): tokens in panels that stay in L2; for each panel the rows are
 * decoded four at a time into an L1 block that serves every token of the panel, four tokens at a time.
 */
final class LinearKernel {
    private static final int TOKEN_PANEL = 64;
    /** Below this many tokens, widening the weights again per four tokens beats decoding them into a block. */
    private static final int FUSED_BELOW = 32;

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
        if (m != null) {
            return m.format() == CpuWeights.Q8 ? Q8Rows.row(m, r, x, x0, n, vectorEnd, lanes)
                    : Q4Rows.row(m, r, x, x0, n, vectorEnd, lanes);
        }
        Tensor weight = cpu.tensor();
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
            int quads = tokens / 4 * 4;
            int r = from;
            for (; quads > 0 && r + 4 <= to; r += 4) {
                for (int t = 0; t < quads; t += 4) {
                    fusedTile4x4(weight, r, x, t * in, in, vectorEnd, sums, lanes);
                    storeTile(sums, scale, out, outStride, t, r);
                }
                for (int i = 0; i < 4; i++) {
                    for (int t = quads; t < tokens; t++) out[t * outStride + r + i] = fusedRow(weight, r + i, x, t * in, in, vectorEnd, lanes) * scale;
                }
            }
            for (; r < to; r++) {
                for (int t = 0; t < tokens; t++) out[t * outStride + r] = fusedRow(weight, r, x, t * in, in, vectorEnd, lanes) * scale;
            }
            return;
        }
        float[] block = scratch.block(4 * in);
        for (int p = 0; p < tokens; p += TOKEN_PANEL) {
            int panelEnd = Math.min(tokens, p + TOKEN_PANEL);
            int r = from;
            for (; r + 4 <= to; r += 4) {
                RowBlockDecoder.decode(weight, r, 4, block);
                int t = p;
                for (; t + 4 <= panelEnd; t += 4) {
                    DotKernels.tile4x4(block, 0, x, t * in, in, vectorEnd, sums, lanes);
                    storeTile(sums, scale, out, outStride, t, r);
                }
                for (; t < panelEnd; t++) {
                    for (int i = 0; i < 4; i++) out[t * outStride + r + i] = DotKernels.dot1(block, i * in, x, t * in, in, vectorEnd, lanes) * scale;
                }
            }
            for (; r < to; r++) {
                RowBlockDecoder.decode(weight, r, 1, block);
                for (int t = p; t < panelEnd; t++) out[t * outStride + r] = DotKernels.dot1(block, 0, x, t * in, in, vectorEnd, lanes) * scale;
            }
        }
    }

    /** A 4x4 tile's {@code sums[4 * row + token]}, scaled, into tokens {@code t..t+3}, rows {@code r..r+3} of out. */
    private static void storeTile(float[] sums, float scale, float[] out, int outStride, int t, int r) {
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) out[(t + j) * outStride + r + i] = sums[4 * i + j] * scale;
        }
    }
}
