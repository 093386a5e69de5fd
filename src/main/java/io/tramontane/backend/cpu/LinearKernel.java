package io.tramontane.backend.cpu;

import io.tramontane.weights.DType;
import io.tramontane.weights.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * {@code out[t, r] = scale * dot(w[r], x[t])} for the output rows {@code [from, to)} of one thread.
 * Up to three tokens (decode): the stored rows stream, widened in registers, one row at a time (one sequential
 * stream runs at twice the bandwidth of four interleaved rows), sixteen rows' sums folded together; a second or third
 * token re-reads the sixteen rows from L2. More: tokens in panels, rows in groups that stay in L2,
 * three rows by four tokens a tile ({@link #prefill}); except that e4m3 and q8 weights below
 * {@link #WIDENED_GROUPS_FROM} tokens stream once, four rows by four tokens. q4 weights take int8 activations and
 * their own loops ({@link #q4Rows}).
 */
final class LinearKernel {
    /**
     * FP32 activations a prefill token panel may take: they are re-read from L3 once per row group, while each row group
     * (widened, for e4m3 and quantized weights) is read once per panel. 8 MB of this VM's 32 MB L3 holds 1024 tokens of
     * 2048 features; panels of 64 tokens (the earlier size) re-read every weight eight times in a 512-token prefill and
     * widened e4m3 groups eight times (whole-prompt panels, three interleaved pairs: BF16 +2-6%, FP8 +5-11%).
     */
    private static final long PANEL_BYTES = 8L << 20;
    private static final int MIN_PANEL = 64;
    /**
     * Below this many tokens, weights that a row group would widen (e4m3, q8) stream from memory once, four rows by
     * four tokens: widening a group for so few tokens costs more than it saves (2026-11-26, 16 streams: FP8 113 fused
     * against 55 grouped tok/s). BF16 and F32 groups are the stored rows: they take the 3x4 tiles from four tokens
     * (16 streams 96-98 -> 112-120, 8 streams 63-68 -> 71-81 tok/s).
     */
    private static final int WIDENED_GROUPS_FROM = 32;
    /** Bytes of a prefill row group as its tiles read it: re-read from L2 once per four tokens. */
    private static final int GROUP_BYTES = 192 << 10;

    /** Per-thread scratch, so a decode step allocates nothing here: the pool's threads live as long as the backend. */
    private static final class Scratch {
        final float[] sums = new float[16], lanes = new float[DotKernels.LANES];
        final short[] blockSums = new short[32 * DotKernels.F.length()];
        float[] fp32 = new float[0];
        MemorySegment fp32View = MemorySegment.NULL, bf16 = MemorySegment.NULL;

        float[] fp32(int floats) {
            if (fp32.length < floats) {
                fp32 = new float[floats];
                fp32View = MemorySegment.ofArray(fp32);
            }
            return fp32;
        }

        MemorySegment bf16(long bytes) {
            if (bf16.byteSize() < bytes) bf16 = MemorySegment.ofArray(new short[(int) (bytes / 2)]);
            return bf16;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private LinearKernel() {}

    /** The dot of row {@code r} with the token at {@code x0} (order: see {@link DotKernels}). */
    static float fusedRow(CpuWeight cpu, int r, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        fusedChains(cpu, r, x, x0, vectorEnd, lanes, 0, DotKernels.F.length());
        return fusedTail(cpu, r, x, x0, n, vectorEnd, LaneSums.sum1(lanes));
    }

    /** Row {@code r} with the token at {@code x0}: its two chains into {@code lanes} at {@code chain0}, {@code chain1}. */
    private static void fusedChains(CpuWeight cpu, int r, float[] x, int x0, int vectorEnd, float[] lanes, int chain0, int chain1) {
        QuantizedMatrix m = cpu.quantized();
        if (m != null) {
            Q8Rows.chains(m, r, x, x0, vectorEnd, lanes, chain0, chain1);
            return;
        }
        Tensor weight = cpu.tensor();
        var w = weight.storage();
        long b = weight.rowByteOffset(r);
        switch (weight.dtype()) {
            case BF16 -> FusedRows.bf16Chains(w, b, x, x0, vectorEnd, lanes, chain0, chain1);
            case F8_E4M3 -> FusedRows.e4m3Chains(w, b, x, x0, vectorEnd, lanes, chain0, chain1);
            default -> FusedRows.f32Chains(w, b, x, x0, vectorEnd, lanes, chain0, chain1);
        }
    }

    /** Row {@code r}'s scalar tail {@code [vectorEnd, n)} with the token at {@code x0}, added to its lane sum. */
    private static float fusedTail(CpuWeight cpu, int r, float[] x, int x0, int n, int vectorEnd, float sum) {
        if (vectorEnd == n) return sum;
        QuantizedMatrix m = cpu.quantized();
        if (m != null) return Q8Rows.rowTail(m, r, x, x0, vectorEnd, n, sum);
        Tensor weight = cpu.tensor();
        var w = weight.storage();
        long b = weight.rowByteOffset(r);
        return switch (weight.dtype()) {
            case BF16 -> FusedRows.bf16Tail(w, b, x, x0, vectorEnd, n, sum);
            case F8_E4M3 -> FusedRows.e4m3Tail(w, b, x, x0, vectorEnd, n, sum);
            default -> FusedRows.f32Tail(w, b, x, x0, vectorEnd, n, sum);
        };
    }

    private static void fusedTile4x4(CpuWeight cpu, int r, float[] x, int x0, int n, int vectorEnd, float[] sums,
                                     float[] lanes) {
        QuantizedMatrix m = cpu.quantized();
        if (m != null) {
            Q8Rows.tile4x4(m, r, x, x0, n, vectorEnd, sums, lanes);
            return;
        }
        Tensor weight = cpu.tensor();  // e4m3: BF16 and F32 take the 3x4 tiles from four tokens
        FusedRows.e4m3Tile4x4(weight.storage(), weight.rowByteOffset(r), weight.rowByteOffset(r + 1), weight.rowByteOffset(r + 2),
                weight.rowByteOffset(r + 3), x, x0, n, vectorEnd, sums, lanes);
    }

    static void rows(CpuWeight weight, float[] x, int tokens, int in, int from, int to, float scale, float[] out,
                     int outStride) {
        if (weight.q4() != null) {
            throw new IllegalArgumentException("q4 linear " + weight.tensor() + " takes int8 activations (q4Rows)");
        }
        int vectorEnd = RowBlockDecoder.vectorEnd(in, weight);
        Scratch scratch = SCRATCH.get();
        float[] sums = scratch.sums, lanes = scratch.lanes;
        boolean widened = weight.quantized() != null || weight.tensor().dtype() == DType.F8_E4M3;
        if (tokens < 4 || widened && tokens < WIDENED_GROUPS_FROM) {  // decode-shaped: stream the stored rows once
            fused(weight, x, tokens, in, from, to, vectorEnd, scale, out, outStride, sums, lanes);
            return;
        }
        prefill(weight, x, tokens, in, from, to, vectorEnd, scale, out, outStride, scratch);
    }

    /**
     * Prefill: per token panel ({@link #PANEL_BYTES}), the rows in groups that stay in L2 ({@link #GROUP_BYTES}); for
     * each four tokens of the panel (32 KB of FP32 at 2048 columns, which stays in L1 across the group; wider rows spill
     * to L2) the group's rows three at a time ({@link StoredTiles}). BF16 and F32 groups are the stored rows, widened in
     * registers; e4m3 groups are widened to BF16 once per panel (exact, and the tiles then decode nothing per use);
     * quantized groups are decoded to FP32. Measured 2026-11-26 against four rows of an FP32 block per token panel:
     * docs/cpu-kernels.md.
     */
    private static void prefill(CpuWeight cpu, float[] x, int tokens, int in, int from, int to, int vectorEnd,
                                float scale, float[] out, int outStride, Scratch scratch) {
        float[] sums = scratch.sums, lanes = scratch.lanes;
        Tensor weight = cpu.tensor();
        Group source = cpu.quantized() != null ? Group.FP32 : switch (weight.dtype()) {
            case BF16 -> Group.STORED_BF16;
            case F8_E4M3 -> Group.BF16;
            default -> Group.STORED_F32;
        };
        int triplesEnd = from + (to - from) / 3 * 3;
        int group = Math.max(3, (int) (GROUP_BYTES / ((long) in * source.bytes)) / 3 * 3);
        int panel = (int) Math.max(MIN_PANEL, PANEL_BYTES / (4L * in) / 4 * 4);
        for (int p = 0; p < tokens; p += panel) {
            int panelEnd = Math.min(tokens, p + panel), quadsEnd = p + (panelEnd - p) / 4 * 4;
            for (int g = from; g < triplesEnd; g += group) {
                int rows = Math.min(triplesEnd, g + group) - g;
                MemorySegment w = weight.storage();
                switch (source) {
                    case BF16 -> RowBlockDecoder.e4m3ToBf16(weight, g, rows, w = scratch.bf16(2L * rows * in));
                    case FP32 -> {
                        RowBlockDecoder.decode(cpu.quantized(), g, rows, scratch.fp32(rows * in));
                        w = scratch.fp32View;
                    }
                    default -> { }
                }
                for (int t = p; t < quadsEnd; t += 4) {
                    for (int r = 0; r < rows; r += 3) {
                        switch (source) {
                            case FP32 -> StoredTiles.f32Tile3x4(w, 4L * r * in, 4L * (r + 1) * in, 4L * (r + 2) * in, x, t * in, in,
                                    vectorEnd, sums, lanes);
                            case BF16 -> StoredTiles.bf16Tile3x4(w, 2L * r * in, 2L * (r + 1) * in, 2L * (r + 2) * in, x, t * in, in,
                                    vectorEnd, sums, lanes);
                            case STORED_BF16 -> StoredTiles.bf16Tile3x4(w, weight.rowByteOffset(g + r), weight.rowByteOffset(g + r + 1),
                                    weight.rowByteOffset(g + r + 2), x, t * in, in, vectorEnd, sums, lanes);
                            case STORED_F32 -> StoredTiles.f32Tile3x4(w, weight.rowByteOffset(g + r), weight.rowByteOffset(g + r + 1),
                                    weight.rowByteOffset(g + r + 2), x, t * in, in, vectorEnd, sums, lanes);
                        }
                        storeTile(sums, 3, scale, out, outStride, t, g + r);
                    }
                }
            }
            for (int t = quadsEnd; t < panelEnd; t++) {
                for (int r = from; r < triplesEnd; r++) out[t * outStride + r] = fusedRow(cpu, r, x, t * in, in, vectorEnd, lanes) * scale;
            }
            for (int r = triplesEnd; r < to; r++) {
                for (int t = p; t < panelEnd; t++) out[t * outStride + r] = fusedRow(cpu, r, x, t * in, in, vectorEnd, lanes) * scale;
            }
        }
    }

    /** Where a prefill row group's tiles read, and its bytes per weight there. */
    private enum Group {
        STORED_BF16(2), STORED_F32(4), BF16(2), FP32(4);

        final int bytes;

        Group(int bytes) {
            this.bytes = bytes;
        }
    }

    /** All tokens of rows {@code [from, to)} from the stored rows, four rows by four tokens where they can. */
    private static void fused(CpuWeight weight, float[] x, int tokens, int in, int from, int to, int vectorEnd, float scale,
                              float[] out, int outStride, float[] sums, float[] lanes) {
        int quadsEnd = tokens / 4 * 4;
        int r = from;
        for (; quadsEnd > 0 && r + 4 <= to; r += 4) {
            for (int t = 0; t < quadsEnd; t += 4) {
                fusedTile4x4(weight, r, x, t * in, in, vectorEnd, sums, lanes);
                storeTile(sums, 4, scale, out, outStride, t, r);
            }
            for (int i = 0; i < 4; i++) {
                for (int t = quadsEnd; t < tokens; t++) out[t * outStride + r + i] = fusedRow(weight, r + i, x, t * in, in, vectorEnd, lanes) * scale;
            }
        }
        for (; r < to; r += 16) {  // sixteen rows' chains folded together: no reduction latency at the end of every row
            int count = Math.min(16, to - r), l = DotKernels.F.length();
            for (int t = 0; t < tokens; t++) {
                for (int k = 0; k < count; k++) fusedChains(weight, r + k, x, t * in, vectorEnd, lanes, k * l, (16 + k) * l);
                LaneSums.sums16(lanes, sums);
                for (int k = 0; k < count; k++) {
                    out[t * outStride + r + k] = fusedTail(weight, r + k, x, t * in, in, vectorEnd, sums[k]) * scale;
                }
            }
        }
    }

    /**
     * {@code out[t, r] = scale * dot(w[r], x[t])} of a q4 linear ({@link Q4Rows}) for the rows {@code [from, to)}. From
     * four tokens: per token panel ({@link #PANEL_BYTES} of int16 activations), rows in groups that stay in L2
     * ({@link #GROUP_BYTES}) and, for each four tokens (whose activation words stay in L1 or L2), the group's rows four at
     * a time. The tokens past the last four, and the rows past the last four, go sixteen rows at a time
     * ({@link Q4Rows#rows16}: each block of sixteen rows read once per token, from L2 after the first).
     */
    static void q4Rows(QuantizedMatrix m, Q4Activations x, int from, int to, float scale, float[] out, int outStride) {
        Scratch scratch = SCRATCH.get();
        float[] sums = scratch.sums, lanes = scratch.lanes;
        int tokens = x.tokens, quadsEnd = tokens / 4 * 4, rowQuadsEnd = quadsEnd == 0 ? from : from + (to - from) / 4 * 4;
        int group = Math.max(4, (int) (GROUP_BYTES / (m.blocksPerRow() * (long) CpuWeights.Q4.quantBytesPerBlock())) / 4 * 4);
        int panel = (int) Math.max(4, PANEL_BYTES / (2L * x.blocks * CpuWeights.BLOCK) / 4 * 4);
        for (int p = 0; p < quadsEnd; p += panel) {
            int panelEnd = Math.min(quadsEnd, p + panel);
            for (int g = from; g < rowQuadsEnd; g += group) {
                int groupEnd = Math.min(rowQuadsEnd, g + group);
                for (int t = p; t < panelEnd; t += 4) {
                    for (int r = g; r < groupEnd; r += 4) {
                        Q4Rows.tile4x4(m, r, x, t, sums, lanes, scratch.blockSums);
                        storeTile(sums, 4, scale, out, outStride, t, r);
                    }
                }
            }
        }
        q4Rows16(m, x, from, rowQuadsEnd, quadsEnd, tokens, scale, out, outStride, sums, lanes);
        q4Rows16(m, x, rowQuadsEnd, to, 0, tokens, scale, out, outStride, sums, lanes);
    }

    /** Rows {@code [from, to)} of a q4 linear with tokens {@code [first, last)}, sixteen rows at a time. */
    private static void q4Rows16(QuantizedMatrix m, Q4Activations x, int from, int to, int first, int last, float scale,
                                 float[] out, int outStride, float[] sums, float[] lanes) {
        for (int r = from; r < to; r += 16) {
            int count = Math.min(16, to - r);
            for (int t = first; t < last; t++) {
                Q4Rows.rows16(m, r, count, x, t, sums, lanes);
                for (int k = 0; k < count; k++) out[t * outStride + r + k] = sums[k] * scale;
            }
        }
    }

    /** A tile's {@code sums[4 * row + token]}, scaled, into tokens {@code t..t+3}, rows {@code r..r+rows-1} of out. */
    private static void storeTile(float[] sums, int rows, float scale, float[] out, int outStride, int t, int r) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < 4; j++) out[(t + j) * outStride + r + i] = sums[4 * i + j] * scale;
        }
    }
}
