package io.tramontane.backend.cpu;

import io.tramontane.weights.DType;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@code out[t, r] = scale * dot(w[r], x[t])} for the output rows {@code [from, to)} of one thread.
 * Up to three tokens (decode): the stored rows stream, widened in registers, one row at a time, or BF16 and F32 rows
 * two at a time where {@link RowPairs} found that faster on this machine; sixteen rows' sums folded together; a second
 * or third token re-reads the sixteen rows from L2. From four tokens, BF16, e4m3 and q8 rows stream once, five (BF16)
 * or six rows by four tokens a tile, up to {@link #GROUPS_FROM} tokens; from there (and F32 rows from four) tokens go
 * in panels and rows in groups that stay in L2, five or six rows by four tokens a tile ({@link #prefill}): BF16 rows
 * read where they lie, the others copied. BF16 kernels take every token in the word layout ({@link DotKernels}). q4
 * weights take int8 activations and their own loops ({@link #q4Rows}).
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
     * Below this many tokens, e4m3 and q8 weights stream from memory once, six rows by four tokens: copying (and
     * widening) a row group for so few tokens costs more than it saves. BF16 rows are never copied (their tiles read the
     * stored words); for them this only picks one pass over five-row tiles below it, row groups and token panels from
     * it (the same speed at 16 tokens, docs/cpu-kernels.md). JMH, 2 threads, 5632x2048 / 2048x5632 GFLOP/s,
     * stored-row tile against groups. FP8: on the Zen 5 EPYC (2026-11-26, six-row BF16 tiles) 16 tokens 227-237 against
     * 203-207, 32 tokens 249 against 261; on the Emerald Rapids Xeon with the paired five-row tiles (eighth session) 8
     * tokens 101-105 / 118-125 against 90 / 91-94, 12 tokens 108-116 / 125-126 against 106-107 / 111-116, 16 tokens
     * 121-122 / 122-125 against 128-129 / 127-142, 24 tokens 122-128 / 112-122 against 143-147 / 148-153. BF16 on the
     * Xeon, before BF16 words (six-row stored tile against paired copies): 4 tokens 66-68 / 71-72 against 46-47 /
     * 39-41, 8 tokens 85-91 / 90-96 against 72-73 / 76-78, 12 tokens 102-109 / 116-118 against 95-96 / 88-99, 16
     * tokens 108-118 / 111-112 against 112 / 107-114 (on the EPYC, 16 tokens: 176-183 stored against 183-202 copied).
     * q8 at 16 tokens: within noise either way. F32 groups are a plain copy: they take the prefill tiles from four
     * tokens.
     */
    private static final int GROUPS_FROM = 16;

    /** Per-thread scratch, so a decode step allocates nothing here: the pool's threads live as long as the backend. */
    private static final class Scratch {
        final float[] sums = new float[LaneSums.TILE_SUMS];
        final ArrayAlignment.Buffer aligned = new ArrayAlignment.Buffer(DotKernels.LANES + ArrayAlignment.SLACK);
        final float[] lanes = aligned.floats();
        final short[] blockSums = new short[32 * DotKernels.F.length()];
        /** q8 block scales of a tile's rows or a decode row ({@link Q8Rows}), grown to the widest linear seen. */
        private float[] q8Scales = new float[0];
        /** Where a tile's BF16 rows lie: byte offset and row stride ({@link #bf16Rows}). */
        final long[] at = new long[2];
        /** Off-heap: the tiles read a heap segment at 55-65% of the speed of native memory (2026-11-26, sixth session). */
        MemorySegment group = MemorySegment.NULL;

        float[] q8Scales(int floats) {
            if (q8Scales.length < floats) q8Scales = new float[floats];
            return q8Scales;
        }

        MemorySegment group(long bytes) {
            if (group.byteSize() < bytes) group = Arena.ofAuto().allocate(bytes, 64);
            return group;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private LinearKernel() {}

    /** The dot of row {@code r} with the token at {@code x0} (order: see {@link DotKernels}), on this thread's scratch. */
    static float fusedRow(CpuWeight cpu, int r, float[] x, int x0, int n, int vectorEnd) {
        return fusedRow(cpu, r, x, x0, n, vectorEnd, SCRATCH.get());
    }

    private static float fusedRow(CpuWeight cpu, int r, float[] x, int x0, int n, int vectorEnd, Scratch scratch) {
        fusedChains(cpu, r, x, x0, vectorEnd, 0, DotKernels.F.length(), scratch);
        return fusedTail(cpu, r, x, x0, n, vectorEnd, LaneSums.sum1(scratch.lanes));
    }

    /**
     * Row {@code r} with the token at {@code x0}: its two chains into {@code scratch.lanes} at {@code chain0},
     * {@code chain1}.
     */
    private static void fusedChains(CpuWeight cpu, int r, float[] x, int x0, int vectorEnd, int chain0, int chain1,
                                    Scratch scratch) {
        float[] lanes = scratch.lanes;
        QuantizedMatrix m = cpu.quantized();
        if (m != null) {
            Q8Rows.chains(m, r, x, x0, vectorEnd, lanes, chain0, chain1, scratch.q8Scales(m.blocksPerRow()));
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

    /**
     * Rows {@code r} and {@code r + 1} (stored BF16 or F32: {@link RowPairs#applies}) with the token at {@code x0}: their
     * chains into {@code lanes} from {@code chain}, as {@link LaneSums#sums16} takes them.
     */
    private static void fusedPairChains(CpuWeight cpu, int r, float[] x, int x0, int vectorEnd, float[] lanes, int chain) {
        Tensor weight = cpu.tensor();
        var w = weight.storage();
        long b = weight.rowByteOffset(r), c = weight.rowByteOffset(r + 1);
        if (weight.dtype() == DType.BF16) FusedRows.bf16PairChains(w, b, c, x, x0, vectorEnd, lanes, chain);
        else FusedRows.f32PairChains(w, b, c, x, x0, vectorEnd, lanes, chain);
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

    /** Six stored e4m3 or q8 rows from {@code r} with four tokens (natural layout). */
    private static void fusedTile6x4(CpuWeight cpu, int r, float[] x, int x0, int n, int vectorEnd, float[] sums,
                                     float[] lanes, int lanesStart, Scratch scratch) {
        QuantizedMatrix m = cpu.quantized();
        if (m != null) {
            Q8Rows.tile6x4(m, r, x, x0, n, vectorEnd, sums, lanes, lanesStart, scratch.q8Scales(6 * m.blocksPerRow()));
            return;
        }
        Tensor weight = cpu.tensor();
        FusedRows.e4m3Tile6x4(weight.storage(), weight.rowByteOffset(r), weight.rowByteOffset(r + 1), weight.rowByteOffset(r + 2),
                weight.rowByteOffset(r + 3), weight.rowByteOffset(r + 4), weight.rowByteOffset(r + 5), x, x0, n, vectorEnd, sums, lanes,
                lanesStart);
    }

    /**
     * The memory of BF16 rows {@code [r, r + count)} as a tile reads them, their byte offset and stride in
     * {@code scratch.at}: where they lie, if evenly spaced; otherwise (a permuted view) a copy in the scratch, {@code 2n}
     * bytes apart.
     */
    private static MemorySegment bf16Rows(Tensor weight, int r, int count, Scratch scratch) {
        long[] at = scratch.at;
        long b = weight.rowByteOffset(r), stride = count > 1 ? weight.rowByteOffset(r + 1) - b : 0;
        boolean even = stride > 0;
        for (int i = 2; even && i < count; i++) even = weight.rowByteOffset(r + i) == b + i * stride;
        if (even) {
            at[0] = b;
            at[1] = stride;
            return weight.storage();
        }
        long row = 2 * weight.cols();
        MemorySegment copy = scratch.group(count * row);
        for (int i = 0; i < count; i++) MemorySegment.copy(weight.storage(), weight.rowByteOffset(r + i), copy, i * row, row);
        at[0] = 0;
        at[1] = row;
        return copy;
    }

    /**
     * True when {@link #rows} on {@code tokens} tokens takes them rearranged as well
     * ({@link RowBlockDecoder#arrangeTokens}): always for BF16 rows, which read words, else for the prefill tiles.
     */
    static boolean takesSplitTokens(CpuWeight weight, int tokens) {
        if (RowBlockDecoder.readsWords(weight)) return true;
        boolean stored = weight.quantized() != null || weight.tensor().dtype() != DType.F32;  // F32 groups are a plain copy
        return weight.q4() == null && tokens >= 4 && !(stored && tokens < GROUPS_FROM);
    }

    /**
     * Rows {@code [from, to)} of {@code out[t, r] = scale * dot(w[r], x[t])}; {@code split} holds the same tokens from
     * {@code splitStart} as {@link RowBlockDecoder#arrangeTokens} lays them out when {@link #takesSplitTokens}, else it
     * is ignored.
     */
    static void rows(CpuWeight weight, float[] x, float[] split, int splitStart, int tokens, int in, int from, int to,
                     float scale, float[] out, int outStride, boolean pairs) {
        if (weight.q4() != null) {
            throw new IllegalArgumentException("q4 linear " + weight.tensor() + " takes int8 activations (q4Rows)");
        }
        int vectorEnd = RowBlockDecoder.vectorEnd(in, weight);
        Scratch scratch = SCRATCH.get();
        boolean words = RowBlockDecoder.readsWords(weight);
        int xStart = 0;
        if (words) {  // BF16 kernels read every token in the word layout
            x = split;
            xStart = splitStart;
        }
        if (words ? tokens < GROUPS_FROM : !takesSplitTokens(weight, tokens)) {  // decode-shaped: stream the stored rows once
            fused(weight, x, xStart, tokens, in, from, to, vectorEnd, scale, out, outStride, scratch, pairs);
            return;
        }
        prefill(weight, x, xStart, split, splitStart, tokens, in, from, to, vectorEnd, scale, out, outStride, scratch);
    }

    /**
     * Prefill: per token panel ({@link #PANEL_BYTES}), the rows in groups that stay in L2 ({@link RowGroups}); for
     * each four tokens of the panel (32 KB of FP32 at 2048 columns, which stays in L1 across the group; wider rows spill
     * to L2) the group's rows five or six at a time ({@link StoredTiles}). BF16 rows are read where they lie (a
     * permuted view's group is copied as it is); the other formats' groups are first copied, once per panel, into a
     * scratch in the tiles' split layout ({@link RowBlockDecoder}): e4m3 rows widened to BF16 (exact), F32 and q8 rows
     * as FP32. The tiles read the tokens from {@code split}, the call's rearranged copy of {@code x}, and the rows and
     * tokens left over from {@code x}. Measured 2026-11-26: docs/cpu-kernels.md.
     */
    private static void prefill(CpuWeight cpu, float[] x, int xStart, float[] split, int splitStart, int tokens, int in,
                                int from, int to, int vectorEnd, float scale, float[] out, int outStride, Scratch scratch) {
        float[] sums = scratch.sums, lanes = scratch.lanes;
        int lanesStart = scratch.aligned.start();
        Tensor weight = cpu.tensor();
        boolean bf16 = cpu.quantized() == null && weight.dtype() != DType.F32;  // BF16 and e4m3: BF16 words
        boolean words = RowBlockDecoder.readsWords(cpu);  // BF16 rows as stored, e4m3 ones widened into a paired split copy
        int chain1 = words ? StoredTiles.wordChain1(vectorEnd) : StoredTiles.pairedChain1(vectorEnd);
        int tileRows = bf16 ? 5 : 6, tilesEnd = from + (to - from) / tileRows * tileRows, bytes = bf16 ? 2 : 4;
        int panel = (int) Math.max(MIN_PANEL, PANEL_BYTES / (4L * in) / 4 * 4);
        int group = RowGroups.rows(4L * in * Math.min(panel, tokens), (long) in * bytes, tileRows);
        for (int p = 0; p < tokens; p += panel) {
            int panelEnd = Math.min(tokens, p + panel), quadsEnd = p + (panelEnd - p) / 4 * 4;
            for (int g = from; g < tilesEnd; g += group) {
                int rows = Math.min(tilesEnd, g + group) - g;
                long row = (long) bytes * in, base = 0;
                MemorySegment w;
                if (words) {
                    w = bf16Rows(weight, g, rows, scratch);
                    base = scratch.at[0];
                    row = scratch.at[1];
                } else {
                    w = scratch.group(rows * row);
                    if (bf16) RowBlockDecoder.e4m3Split(weight, g, rows, w);
                    else RowBlockDecoder.fp32Split(cpu, g, rows, w);
                }
                for (int t = p; t < quadsEnd; t += 4) {
                    for (int r = 0; r < rows; r += tileRows) {
                        long b = base + r * row;
                        if (bf16) {
                            StoredTiles.bf16Tile5x4(w, b, row, split, splitStart + t * in, in, vectorEnd, chain1, sums, lanes, lanesStart);
                        } else {
                            StoredTiles.f32Tile6x4(w, b, b + row, b + 2 * row, b + 3 * row, b + 4 * row, b + 5 * row, split,
                                    splitStart + t * in, in, vectorEnd, sums, lanes, lanesStart);
                        }
                        storeTile(sums, tileRows, scale, out, outStride, t, g + r);
                    }
                }
            }
            for (int t = quadsEnd; t < panelEnd; t++) {
                for (int r = from; r < tilesEnd; r++) out[t * outStride + r] = fusedRow(cpu, r, x, xStart + t * in, in, vectorEnd, scratch) * scale;
            }
            for (int r = tilesEnd; r < to; r++) {
                for (int t = p; t < panelEnd; t++) out[t * outStride + r] = fusedRow(cpu, r, x, xStart + t * in, in, vectorEnd, scratch) * scale;
            }
        }
    }

    /**
     * All tokens of rows {@code [from, to)} from the stored rows, six rows by four tokens where they can; the rest
     * sixteen rows at a time, in pairs where {@code pairs} ({@link RowPairs}).
     */
    private static void fused(CpuWeight weight, float[] x, int xStart, int tokens, int in, int from, int to, int vectorEnd,
                              float scale, float[] out, int outStride, Scratch scratch, boolean pairs) {
        float[] sums = scratch.sums, lanes = scratch.lanes;
        boolean words = RowBlockDecoder.readsWords(weight);
        int quadsEnd = tokens / 4 * 4, tileRows = words ? 5 : 6;
        int lanesStart = quadsEnd > 0 ? scratch.aligned.start() : 0;  // decode rows fold sixteen at a time, not tiles
        int r = from;
        for (; quadsEnd > 0 && r + tileRows <= to; r += tileRows) {
            MemorySegment w = words ? bf16Rows(weight.tensor(), r, tileRows, scratch) : null;
            for (int t = 0; t < quadsEnd; t += 4) {
                if (words) {
                    StoredTiles.bf16Tile5x4(w, scratch.at[0], scratch.at[1], x, xStart + t * in, in, vectorEnd,
                            StoredTiles.wordChain1(vectorEnd), sums, lanes, lanesStart);
                } else {
                    fusedTile6x4(weight, r, x, xStart + t * in, in, vectorEnd, sums, lanes, lanesStart, scratch);
                }
                storeTile(sums, tileRows, scale, out, outStride, t, r);
            }
            for (int i = 0; i < tileRows; i++) {
                for (int t = quadsEnd; t < tokens; t++) out[t * outStride + r + i] = fusedRow(weight, r + i, x, xStart + t * in, in, vectorEnd, scratch) * scale;
            }
        }
        for (; r < to; r += 16) {  // sixteen rows' chains folded together: no reduction latency at the end of every row
            int count = Math.min(16, to - r), l = DotKernels.F.length();
            for (int t = 0; t < tokens; t++) {
                int k = 0;
                if (pairs) {
                    for (; k + 2 <= count; k += 2) fusedPairChains(weight, r + k, x, xStart + t * in, vectorEnd, lanes, k * l);
                }
                for (; k < count; k++) fusedChains(weight, r + k, x, xStart + t * in, vectorEnd, k * l, (16 + k) * l, scratch);
                LaneSums.sums16(lanes, sums);
                for (k = 0; k < count; k++) {
                    out[t * outStride + r + k] = fusedTail(weight, r + k, x, xStart + t * in, in, vectorEnd, sums[k]) * scale;
                }
            }
        }
    }

    /**
     * {@code out[t, r] = scale * dot(w[r], x[t])} of a q4 linear ({@link Q4Rows}) for the rows {@code [from, to)}. From
     * four tokens: per token panel ({@link #PANEL_BYTES} of int16 activations), rows in groups that stay in L2
     * ({@link RowGroups}) and, for each four tokens (whose activation words stay in L1 or L2), the group's rows four at
     * a time. The tokens past the last four, and the rows past the last four, go sixteen rows at a time
     * ({@link Q4Rows#rows16}: each block of sixteen rows read once per token, from L2 after the first).
     */
    static void q4Rows(QuantizedMatrix m, Q4Activations x, int from, int to, float scale, float[] out, int outStride) {
        Scratch scratch = SCRATCH.get();
        float[] sums = scratch.sums, lanes = scratch.lanes;
        int tokens = x.tokens, quadsEnd = tokens / 4 * 4, rowQuadsEnd = quadsEnd == 0 ? from : from + (to - from) / 4 * 4;
        int panel = (int) Math.max(4, PANEL_BYTES / (2L * x.blocks * CpuWeights.BLOCK) / 4 * 4);
        int group = RowGroups.rows(2L * x.blocks * CpuWeights.BLOCK * Math.min(panel, tokens),
                m.blocksPerRow() * (long) CpuWeights.Q4.quantBytesPerBlock(), 4);
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
