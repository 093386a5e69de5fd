package io.tramontane.backend.cpu;

import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.S2I;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.KvCacheDtype;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal GQA attention over the paged KV cache (FP32, or BF16 widened exactly to FP32 as it is loaded), flash style.
 * A unit of work is one kv head of a few consecutive tokens of one sequence: its query rows (every query head of the
 * GQA group, token by token) stream the cached keys and values of their context once, a tile of {@link #KEY_TILE}
 * positions at a time through the block table: scores by FMAs over the transposed keys (four rows by four vectors of
 * keys per pass), an online softmax (running max and sum, accumulator rescaled when the max grows) with
 * {@link VectorMath#exp(FloatVector)}, then P.V by FMAs over the value rows. Work grows linearly with context per
 * token, and each key and value row is read once per tile of query rows.
 *
 * <p>Context is cut into fixed chunks of {@link #CHUNK} positions, each reduced to a partial (max, sum,
 * accumulator) from a fresh state, and the partials are merged in chunk order. A unit's chunks run one after the
 * other on one thread, or, when a unit would dominate its thread's share (a long decode with fewer kv heads than
 * threads), on several threads at once (flash-decoding) with the merge afterwards. Either way every query row
 * goes through the same operations on the same values: a row's output is bitwise the same alone, in any batch,
 * in any tile of a chunked prefill, at any thread count. (Where the GQA group is not a multiple of four, rows of
 * different tokens share a pass and a row can add exact zeros for keys past its position: that can only turn an
 * exactly zero accumulator lane from -0 into +0.)
 *
 * <p>Scratch (per thread, and the plan) lives here, one instance per cache, and is reused: a decode step
 * allocates nothing once the shapes have been seen.
 */
final class CpuAttention {
    private static final VectorSpecies<Float> F = VectorMath.SPECIES;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Positions per online-softmax step: four vectors of scores per query row. */
    private static final int KEY_TILE = 4 * L;
    /** Positions per partial softmax: fixed, so a row's arithmetic never depends on how work was split. */
    private static final int CHUNK = 512;
    /** Query rows a prefill unit aims for (tokens x query heads of one kv head): reuse of each key and value row. */
    private static final int TILE_ROWS = 16;
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    private final CpuKvCache cache;
    private final int headDim, blockSize, kvHeads;
    /** Key vectors load straight from the cache when a block holds whole vectors of positions; else gathered. */
    private final boolean directKeys;
    /** Whether the cache holds BF16 (else FP32) elements. */
    private final boolean bf16;
    private final CpuThreads.RangeBody body = this::work;

    // the call in progress, read by the workers
    private List<AttentionBatch.Segment> segments;
    private float[] q, out;
    private MemorySegment keys, values;
    private int qCols, group, tileTokens;
    private float scale;

    // the plan: units (segment, kv head, first token, tokens) and pieces (a unit whole, or one chunk of it)
    private int units, pieces;
    private int[] unitSegment = new int[0], unitKvHead = new int[0], unitFirst = new int[0], unitTokens = new int[0];
    private int[] unitPartial = new int[0], pieceUnit = new int[0], pieceChunk = new int[0], threadFirst = new int[0];
    private long[] unitCost = new long[0], pieceCost = new long[0];
    private float[] partials = new float[0];
    private Scratch[] scratch = new Scratch[0];

    CpuAttention(CpuKvCache cache) {
        this.cache = cache;
        this.headDim = cache.headDim;
        this.blockSize = cache.blockSize;
        this.kvHeads = cache.kvHeads;
        this.directKeys = blockSize % L == 0;
        this.bf16 = cache.dtype == KvCacheDtype.BF16;
    }

    static void run(CpuThreads threads, CpuActivation q, CpuActivation k, CpuActivation v, CpuKvCache cache, int layer,
                    AttentionBatch batch, float scale, CpuActivation out) {
        cache.write(layer, k, v, batch);
        cache.attention().attend(threads, q, layer, batch, scale, out);
    }

    private void attend(CpuThreads threads, CpuActivation query, int layer, AttentionBatch batch, float scale,
                        CpuActivation output) {
        int heads = query.cols() / headDim;
        if (query.cols() != heads * headDim || heads % kvHeads != 0 || output.cols() != query.cols()) {
            throw new IllegalArgumentException("attention: queries of width " + query.cols() + " and output of width "
                    + output.cols() + " for " + kvHeads + " kv heads of " + headDim);
        }
        segments = batch.segments();
        q = query.data();
        out = output.data();
        keys = cache.keys[layer];
        values = cache.values[layer];
        qCols = query.cols();
        group = heads / kvHeads;
        tileTokens = Math.max(1, TILE_ROWS / group);
        this.scale = scale;
        int n = threads.threads();
        ensureScratch(n, padded(tileTokens * group));
        plan(n);
        try {
            threads.parallelFor(n, 1, body);
            for (int u = 0; u < units; u++) {
                if (unitPartial[u] >= 0) mergeChunks(scratch[0], u);
            }
        } finally {
            segments = null;
            q = out = null;
            keys = values = null;
        }
    }

    private static int padded(int rows) {
        return (rows + 3) & ~3;
    }

    private int chunks(int u) {
        return (segments.get(unitSegment[u]).start() + unitFirst[u] + unitTokens[u] - 1) / CHUNK + 1;
    }

    /** Units in (segment, kv head, tokens) order, split into chunk pieces where one would outweigh a thread. */
    private void plan(int threadCount) {
        units = 0;
        long total = 0;
        for (int si = 0; si < segments.size(); si++) {
            AttentionBatch.Segment s = segments.get(si);
            for (int h = 0; h < kvHeads; h++) {
                for (int first = 0; first < s.length(); first += tileTokens) {
                    int tokens = Math.min(tileTokens, s.length() - first);
                    if (units == unitSegment.length) growUnits();
                    unitSegment[units] = si;
                    unitKvHead[units] = h;
                    unitFirst[units] = first;
                    unitTokens[units] = tokens;
                    unitCost[units] = (long) padded(tokens * group) * (s.start() + first + tokens + KEY_TILE);
                    total += unitCost[units++];
                }
            }
        }
        long dominant = threadCount > 1 ? total / (4L * threadCount) : Long.MAX_VALUE;
        pieces = 0;
        int partialFloats = 0;
        for (int u = 0; u < units; u++) {
            int chunks = chunks(u);
            if (chunks > 1 && unitCost[u] > dominant) {
                int rows = padded(unitTokens[u] * group);
                unitPartial[u] = partialFloats;
                partialFloats = Math.addExact(partialFloats, chunks * rows * (headDim + 2));
                long perChunk = unitCost[u] / chunks;
                for (int c = 0; c < chunks; c++) addPiece(u, c, perChunk);
            } else {
                unitPartial[u] = -1;
                addPiece(u, -1, unitCost[u]);
            }
        }
        if (partials.length < partialFloats) partials = new float[partialFloats];
        // contiguous runs of pieces of about equal cost: thread t starts at the first piece centred past t/threads
        if (threadFirst.length < threadCount + 1) threadFirst = new int[threadCount + 1];
        int t = 1;
        long before = 0;
        for (int p = 0; p < pieces; p++) {
            long centre = before + pieceCost[p] / 2;
            while (t < threadCount && centre * threadCount >= t * total) threadFirst[t++] = p;
            before += pieceCost[p];
        }
        while (t <= threadCount) threadFirst[t++] = pieces;
    }

    private void addPiece(int unit, int chunk, long cost) {
        if (pieces == pieceUnit.length) {
            int capacity = Math.max(16, 2 * pieces);
            pieceUnit = Arrays.copyOf(pieceUnit, capacity);
            pieceChunk = Arrays.copyOf(pieceChunk, capacity);
            pieceCost = Arrays.copyOf(pieceCost, capacity);
        }
        pieceUnit[pieces] = unit;
        pieceChunk[pieces] = chunk;
        pieceCost[pieces++] = cost;
    }

    private void growUnits() {
        int capacity = Math.max(16, 2 * units);
        unitSegment = Arrays.copyOf(unitSegment, capacity);
        unitKvHead = Arrays.copyOf(unitKvHead, capacity);
        unitFirst = Arrays.copyOf(unitFirst, capacity);
        unitTokens = Arrays.copyOf(unitTokens, capacity);
        unitPartial = Arrays.copyOf(unitPartial, capacity);
        unitCost = Arrays.copyOf(unitCost, capacity);
    }

    private void ensureScratch(int threadCount, int rows) {
        if (scratch.length < threadCount) scratch = Arrays.copyOf(scratch, threadCount);
        for (int t = 0; t < threadCount; t++) {
            if (scratch[t] == null || scratch[t].pos.length < rows) scratch[t] = new Scratch(rows, headDim, cache);
        }
    }

    /** The body run by thread {@code t} for each {@code t} in {@code [from, to)}: its run of pieces. */
    private void work(int from, int to) {
        for (int t = from; t < to; t++) {
            Scratch w = scratch[t];
            for (int p = threadFirst[t]; p < threadFirst[t + 1]; p++) {
                int u = pieceUnit[p], rows = rows(w, u);
                if (pieceChunk[p] >= 0) {
                    chunk(w, u, pieceChunk[p]);
                    int stride = padded(rows) * (headDim + 2), at = unitPartial[u] + pieceChunk[p] * stride;
                    w.save(partials, at, padded(rows), headDim);
                } else {
                    for (int c = 0, chunks = chunks(u); c < chunks; c++) {
                        chunk(w, u, c);
                        if (c == 0) w.keepChunk(padded(rows), headDim);
                        else merge(w, rows);
                    }
                    finish(w, rows);
                }
            }
        }
    }

    /** The chunk partials of a unit that was split over threads, merged in chunk order as one thread would. */
    private void mergeChunks(Scratch w, int u) {
        int rows = rows(w, u), padded = padded(rows), stride = padded * (headDim + 2);
        for (int c = 0, chunks = chunks(u); c < chunks; c++) {
            w.load(partials, unitPartial[u] + c * stride, padded, headDim);
            if (c == 0) w.keepChunk(padded, headDim);
            else merge(w, rows);
        }
        finish(w, rows);
    }

    /** Fills the unit's row positions and query offsets (padded to four by repeating the last row); returns rows. */
    private int rows(Scratch w, int u) {
        AttentionBatch.Segment s = segments.get(unitSegment[u]);
        int rows = unitTokens[u] * group, firstHead = unitKvHead[u] * group;
        w.table = s.blockTable();
        for (int r = 0; r < padded(rows); r++) {
            int row = Math.min(r, rows - 1), token = unitFirst[u] + row / group;
            w.pos[r] = s.start() + token;
            w.qOff[r] = (s.firstRow() + token) * qCols + (firstHead + row % group) * headDim;
        }
        return rows;
    }

    /**
     * The partial of chunk {@code c} for the unit's rows (set up by {@link #rows}), from a fresh state, into
     * {@code w.m, w.l, w.acc}.
     */
    private void chunk(Scratch w, int u, int c) {
        int rows = unitTokens[u] * group, padded = padded(rows), kvHead = unitKvHead[u];
        int from = c * CHUNK, end = Math.min(from + CHUNK, w.pos[rows - 1] + 1);
        Arrays.fill(w.m, 0, padded, NEG_INF);
        Arrays.fill(w.sums, 0, padded * L, 0f);
        Arrays.fill(w.acc, 0, padded * headDim, 0f);
        for (int tile = from; tile < end; tile += KEY_TILE) {
            int n = Math.min(KEY_TILE, end - tile);
            int block = tile / blockSize, slot = tile % blockSize, slab = cache.slab(w.table[block], kvHead);
            for (int j = 0; j < n; j++, slot++) {
                if (slot == blockSize) {
                    slot = 0;
                    slab = cache.slab(w.table[++block], kvHead);
                }
                w.kCol[j] = slab + slot;
                w.vOff[j] = slab + slot * headDim;
            }
            // keys read where the cache holds them, or, where a block does not hold whole vectors of positions, gathered
            // into FP32 scratch
            MemorySegment k;
            int k0, k1, k2, k3, stride;
            boolean narrow = bf16;  // k holds BF16 elements
            if (directKeys) {
                k = keys;
                stride = blockSize;
                k0 = w.kCol[0];
                k1 = L < n ? w.kCol[L] : k0;  // past the tile's last position: any vector, masked
                k2 = 2 * L < n ? w.kCol[2 * L] : k0;
                k3 = 3 * L < n ? w.kCol[3 * L] : k0;
            } else {
                gatherKeys(w.keys, w.kCol, n);
                k = w.keys;
                narrow = false;
                stride = KEY_TILE;
                k0 = 0;
                k1 = L;
                k2 = 2 * L;
                k3 = 3 * L;
            }
            for (int r = 0; r < padded; r += 4) {
                int valid = Math.min(n, w.pos[r + 3] - tile + 1);  // rows ascend in position: the last sees most
                if (valid <= 0) continue;
                if (narrow) {
                    scoresBf16(q, w.qOff[r], w.qOff[r + 1], w.qOff[r + 2], w.qOff[r + 3], headDim, k, k0, k1, k2, k3, stride,
                            scale, w.p);
                } else {
                    scores(q, w.qOff[r], w.qOff[r + 1], w.qOff[r + 2], w.qOff[r + 3], headDim, k, k0, k1, k2, k3, stride,
                            scale, w.p);
                }
                softmax(w, r, tile, n);
                accumulate(w, r, valid);
            }
        }
        for (int r = 0; r < padded; r++) w.l[r] = VectorMath.sumLanes(w.sums, r * L);
    }

    /** The tile's n keys (at {@code kCol[j]} in their transposed slabs) into FP32 {@code [headDim][KEY_TILE]}. */
    private void gatherKeys(MemorySegment dst, int[] kCol, int n) {
        for (int j = 0; j < n; j++) {
            for (int d = 0, src = kCol[j]; d < headDim; d++, src += blockSize) {
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, d * KEY_TILE + j, cache.get(keys, src));
            }
        }
    }

    /*
     * The kernels below come in two copies, FP32 and BF16, that differ only in their loads. Each way of sharing one
     * kernel tried allocated in a compiled decode step (1-2 MB a call; docs/cpu-kernels.md): a load helper choosing by a
     * flag, the kernel called with a constant flag from two call sites (too large for C2 to inline, so the flag stays a
     * variable), and a helper for the widening load ("callee uses too much stack" in -XX:+PrintInlining).
     */
    private static FloatVector loadF32(MemorySegment pool, int index) {
        return FloatVector.fromMemorySegment(F, pool, 4L * index, NATIVE);
    }

    /**
     * {@code s[i * KEY_TILE + j] = scale * (q_i . k_j)} for four query rows and four vectors of keys, key vector
     * {@code g} at element {@code kg + d * stride} of {@code k} for dimension d: one load per key vector and dimension,
     * 16 FMAs.
     */
    private static void scores(float[] q, int q0, int q1, int q2, int q3, int headDim, MemorySegment k, int k0, int k1,
                               int k2, int k3, int stride, float scale, float[] s) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int d = 0, kd = 0; d < headDim; d++, kd += stride) {
            FloatVector v0 = loadF32(k, k0 + kd), v1 = loadF32(k, k1 + kd);
            FloatVector v2 = loadF32(k, k2 + kd), v3 = loadF32(k, k3 + kd);
            FloatVector b = FloatVector.broadcast(F, q[q0 + d]);
            a00 = b.fma(v0, a00);
            a01 = b.fma(v1, a01);
            a02 = b.fma(v2, a02);
            a03 = b.fma(v3, a03);
            b = FloatVector.broadcast(F, q[q1 + d]);
            a10 = b.fma(v0, a10);
            a11 = b.fma(v1, a11);
            a12 = b.fma(v2, a12);
            a13 = b.fma(v3, a13);
            b = FloatVector.broadcast(F, q[q2 + d]);
            a20 = b.fma(v0, a20);
            a21 = b.fma(v1, a21);
            a22 = b.fma(v2, a22);
            a23 = b.fma(v3, a23);
            b = FloatVector.broadcast(F, q[q3 + d]);
            a30 = b.fma(v0, a30);
            a31 = b.fma(v1, a31);
            a32 = b.fma(v2, a32);
            a33 = b.fma(v3, a33);
        }
        a00.mul(scale).intoArray(s, 0);
        a01.mul(scale).intoArray(s, L);
        a02.mul(scale).intoArray(s, 2 * L);
        a03.mul(scale).intoArray(s, 3 * L);
        a10.mul(scale).intoArray(s, KEY_TILE);
        a11.mul(scale).intoArray(s, KEY_TILE + L);
        a12.mul(scale).intoArray(s, KEY_TILE + 2 * L);
        a13.mul(scale).intoArray(s, KEY_TILE + 3 * L);
        a20.mul(scale).intoArray(s, 2 * KEY_TILE);
        a21.mul(scale).intoArray(s, 2 * KEY_TILE + L);
        a22.mul(scale).intoArray(s, 2 * KEY_TILE + 2 * L);
        a23.mul(scale).intoArray(s, 2 * KEY_TILE + 3 * L);
        a30.mul(scale).intoArray(s, 3 * KEY_TILE);
        a31.mul(scale).intoArray(s, 3 * KEY_TILE + L);
        a32.mul(scale).intoArray(s, 3 * KEY_TILE + 2 * L);
        a33.mul(scale).intoArray(s, 3 * KEY_TILE + 3 * L);
    }

    /** {@link #scores} over a BF16 cache: the same operations on the widened (exact) values. */
    private static void scoresBf16(float[] q, int q0, int q1, int q2, int q3, int headDim, MemorySegment k, int k0, int k1,
                                   int k2, int k3, int stride, float scale, float[] s) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int d = 0, kd = 0; d < headDim; d++, kd += stride) {
            // widening loads written out: as a helper method C2 declines to inline them ("callee uses too much stack")
            FloatVector v0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, k, 2L * (k0 + kd), NATIVE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 16).reinterpretShape(F, 0));
            FloatVector v1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, k, 2L * (k1 + kd), NATIVE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 16).reinterpretShape(F, 0));
            FloatVector v2 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, k, 2L * (k2 + kd), NATIVE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 16).reinterpretShape(F, 0));
            FloatVector v3 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, k, 2L * (k3 + kd), NATIVE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 16).reinterpretShape(F, 0));
            FloatVector b = FloatVector.broadcast(F, q[q0 + d]);
            a00 = b.fma(v0, a00);
            a01 = b.fma(v1, a01);
            a02 = b.fma(v2, a02);
            a03 = b.fma(v3, a03);
            b = FloatVector.broadcast(F, q[q1 + d]);
            a10 = b.fma(v0, a10);
            a11 = b.fma(v1, a11);
            a12 = b.fma(v2, a12);
            a13 = b.fma(v3, a13);
            b = FloatVector.broadcast(F, q[q2 + d]);
            a20 = b.fma(v0, a20);
            a21 = b.fma(v1, a21);
            a22 = b.fma(v2, a22);
            a23 = b.fma(v3, a23);
            b = FloatVector.broadcast(F, q[q3 + d]);
            a30 = b.fma(v0, a30);
            a31 = b.fma(v1, a31);
            a32 = b.fma(v2, a32);
            a33 = b.fma(v3, a33);
        }
        a00.mul(scale).intoArray(s, 0);
        a01.mul(scale).intoArray(s, L);
        a02.mul(scale).intoArray(s, 2 * L);
        a03.mul(scale).intoArray(s, 3 * L);
        a10.mul(scale).intoArray(s, KEY_TILE);
        a11.mul(scale).intoArray(s, KEY_TILE + L);
        a12.mul(scale).intoArray(s, KEY_TILE + 2 * L);
        a13.mul(scale).intoArray(s, KEY_TILE + 3 * L);
        a20.mul(scale).intoArray(s, 2 * KEY_TILE);
        a21.mul(scale).intoArray(s, 2 * KEY_TILE + L);
        a22.mul(scale).intoArray(s, 2 * KEY_TILE + 2 * L);
        a23.mul(scale).intoArray(s, 2 * KEY_TILE + 3 * L);
        a30.mul(scale).intoArray(s, 3 * KEY_TILE);
        a31.mul(scale).intoArray(s, 3 * KEY_TILE + L);
        a32.mul(scale).intoArray(s, 3 * KEY_TILE + 2 * L);
        a33.mul(scale).intoArray(s, 3 * KEY_TILE + 3 * L);
    }

    /**
     * Online softmax step of rows r..r+3 (their scores in lines 0..3 of {@code w.p}; keys past a row's own position,
     * or past the {@code n} of this tile, masked to -inf): scores become probabilities relative to each row's new
     * running max, each row's lane sums are rescaled and extended (summed across lanes once, at the end of the
     * chunk), and the factor that rescales each accumulator is left in {@code w.corr} (exactly 1 while the max
     * holds). Phase by phase over the four rows, so their chains of dependent operations overlap.
     */
    private static void softmax(Scratch w, int r, int tile, int n) {
        float[] p = w.p;
        for (int i = 0; i < 4; i++) {
            int valid = Math.min(n, w.pos[r + i] - tile + 1);
            if (valid < KEY_TILE) Arrays.fill(p, i * KEY_TILE + Math.max(valid, 0), (i + 1) * KEY_TILE, NEG_INF);
        }
        for (int i = 0; i < 4; i++) {
            float old = w.m[r + i], now = runningMax(p, i * KEY_TILE, old);
            w.corr[r + i] = now == old ? 1f : VectorMath.exp(old - now);
            w.m[r + i] = now;
        }
        for (int i = 0; i < 4; i++) VectorMath.exp(p, i * KEY_TILE, KEY_TILE, w.m[r + i] == NEG_INF ? 0f : w.m[r + i]);
        for (int i = 0, o = 0; i < 4; i++, o += KEY_TILE) {
            FloatVector e = FloatVector.fromArray(F, p, o).add(FloatVector.fromArray(F, p, o + L))
                    .add(FloatVector.fromArray(F, p, o + 2 * L).add(FloatVector.fromArray(F, p, o + 3 * L)));
            int so = (r + i) * L;
            FloatVector.fromArray(F, w.sums, so).mul(w.corr[r + i]).add(e).intoArray(w.sums, so);
        }
    }

    /**
     * {@code max(old, p[o .. o + KEY_TILE))}. A lane compare decides first whether the max grows at all: past the
     * first tiles it rarely does, and the reduction across lanes is a long chain. (Either way the value is the same.)
     */
    private static float runningMax(float[] p, int o, float old) {
        FloatVector m = FloatVector.fromArray(F, p, o).max(FloatVector.fromArray(F, p, o + L))
                .max(FloatVector.fromArray(F, p, o + 2 * L).max(FloatVector.fromArray(F, p, o + 3 * L)));
        return m.compare(VectorOperators.GT, old).anyTrue() ? Math.max(old, m.reduceLanes(VectorOperators.MAX)) : old;
    }

    /** {@code acc_i = acc_i * corr_i + sum_{j < n} p_ij v_j} for rows r..r+3: four vectors of dimensions at a time. */
    private void accumulate(Scratch w, int r, int n) {
        float c0 = w.corr[r], c1 = w.corr[r + 1], c2 = w.corr[r + 2], c3 = w.corr[r + 3];
        int a = r * headDim, d = 0;
        for (; d + 4 * L <= headDim; d += 4 * L) {
            if (bf16) accumulate4Bf16(w.p, n, values, w.vOff, d, w.acc, a, headDim, c0, c1, c2, c3);
            else accumulate4(w.p, n, values, w.vOff, d, w.acc, a, headDim, c0, c1, c2, c3);
        }
        for (; d + L <= headDim; d += L) {
            if (bf16) accumulate1Bf16(w.p, n, values, w.vOff, d, w.acc, a, headDim, c0, c1, c2, c3);
            else accumulate1(w.p, n, values, w.vOff, d, w.acc, a, headDim, c0, c1, c2, c3);
        }
        for (; d < headDim; d++) {
            for (int i = 0; i < 4; i++) {
                int o = a + i * headDim + d;
                float sum = w.acc[o] * w.corr[r + i];
                for (int j = 0; j < n; j++) sum = Math.fma(w.p[i * KEY_TILE + j], cache.get(values, w.vOff[j] + d), sum);
                w.acc[o] = sum;
            }
        }
    }

    private static void accumulate4(float[] p, int n, MemorySegment v, int[] vOff, int d, float[] acc, int a, int headDim,
                                    float c0, float c1, float c2, float c3) {
        int a0 = a + d, a1 = a0 + headDim, a2 = a1 + headDim, a3 = a2 + headDim;
        FloatVector x00 = FloatVector.fromArray(F, acc, a0).mul(c0), x01 = FloatVector.fromArray(F, acc, a0 + L).mul(c0);
        FloatVector x02 = FloatVector.fromArray(F, acc, a0 + 2 * L).mul(c0);
        FloatVector x03 = FloatVector.fromArray(F, acc, a0 + 3 * L).mul(c0);
        FloatVector x10 = FloatVector.fromArray(F, acc, a1).mul(c1), x11 = FloatVector.fromArray(F, acc, a1 + L).mul(c1);
        FloatVector x12 = FloatVector.fromArray(F, acc, a1 + 2 * L).mul(c1);
        FloatVector x13 = FloatVector.fromArray(F, acc, a1 + 3 * L).mul(c1);
        FloatVector x20 = FloatVector.fromArray(F, acc, a2).mul(c2), x21 = FloatVector.fromArray(F, acc, a2 + L).mul(c2);
        FloatVector x22 = FloatVector.fromArray(F, acc, a2 + 2 * L).mul(c2);
        FloatVector x23 = FloatVector.fromArray(F, acc, a2 + 3 * L).mul(c2);
        FloatVector x30 = FloatVector.fromArray(F, acc, a3).mul(c3), x31 = FloatVector.fromArray(F, acc, a3 + L).mul(c3);
        FloatVector x32 = FloatVector.fromArray(F, acc, a3 + 2 * L).mul(c3);
        FloatVector x33 = FloatVector.fromArray(F, acc, a3 + 3 * L).mul(c3);
        for (int j = 0; j < n; j++) {
            int o = vOff[j] + d;
            FloatVector v0 = loadF32(v, o), v1 = loadF32(v, o + L);
            FloatVector v2 = loadF32(v, o + 2 * L), v3 = loadF32(v, o + 3 * L);
            FloatVector b = FloatVector.broadcast(F, p[j]);
            x00 = b.fma(v0, x00);
            x01 = b.fma(v1, x01);
            x02 = b.fma(v2, x02);
            x03 = b.fma(v3, x03);
            b = FloatVector.broadcast(F, p[KEY_TILE + j]);
            x10 = b.fma(v0, x10);
            x11 = b.fma(v1, x11);
            x12 = b.fma(v2, x12);
            x13 = b.fma(v3, x13);
            b = FloatVector.broadcast(F, p[2 * KEY_TILE + j]);
            x20 = b.fma(v0, x20);
            x21 = b.fma(v1, x21);
            x22 = b.fma(v2, x22);
            x23 = b.fma(v3, x23);
            b = FloatVector.broadcast(F, p[3 * KEY_TILE + j]);
            x30 = b.fma(v0, x30);
            x31 = b.fma(v1, x31);
            x32 = b.fma(v2, x32);
            x33 = b.fma(v3, x33);
        }
        x00.intoArray(acc, a0);
        x01.intoArray(acc, a0 + L);
        x02.intoArray(acc, a0 + 2 * L);
        x03.intoArray(acc, a0 + 3 * L);
        x10.intoArray(acc, a1);
        x11.intoArray(acc, a1 + L);
        x12.intoArray(acc, a1 + 2 * L);
        x13.intoArray(acc, a1 + 3 * L);
        x20.intoArray(acc, a2);
        x21.intoArray(acc, a2 + L);
        x22.intoArray(acc, a2 + 2 * L);
        x23.intoArray(acc, a2 + 3 * L);
        x30.intoArray(acc, a3);
        x31.intoArray(acc, a3 + L);
        x32.intoArray(acc, a3 + 2 * L);
        x33.intoArray(acc, a3 + 3 * L);
    }

    /** {@link #accumulate4} over a BF16 cache: the same operations on the widened (exact) values. */
    private static void accumulate4Bf16(float[] p, int n, MemorySegment v, int[] vOff, int d, float[] acc, int a,
                                        int headDim, float c0, float c1, float c2, float c3) {
        int a0 = a + d, a1 = a0 + headDim, a2 = a1 + headDim, a3 = a2 + headDim;
        FloatVector x00 = FloatVector.fromArray(F, acc, a0).mul(c0), x01 = FloatVector.fromArray(F, acc, a0 + L).mul(c0);
        FloatVector x02 = FloatVector.fromArray(F, acc, a0 + 2 * L).mul(c0);
        FloatVector x03 = FloatVector.fromArray(F, acc, a0 + 3 * L).mul(c0);
        FloatVector x10 = FloatVector.fromArray(F, acc, a1).mul(c1), x11 = FloatVector.fromArray(F, acc, a1 + L).mul(c1);
        FloatVector x12 = FloatVector.fromArray(F, acc, a1 + 2 * L).mul(c1);
        FloatVector x13 = FloatVector.fromArray(F, acc, a1 + 3 * L).mul(c1);
        FloatVector x20 = FloatVector.fromArray(F, acc, a2).mul(c2), x21 = FloatVector.fromArray(F, acc, a2 + L).mul(c2);
        FloatVector x22 = FloatVector.fromArray(F, acc, a2 + 2 * L).mul(c2);
        FloatVector x23 = FloatVector.fromArray(F, acc, a2 + 3 * L).mul(c2);
        FloatVector x30 = FloatVector.fromArray(F, acc, a3).mul(c3), x31 = FloatVector.fromArray(F, acc, a3 + L).mul(c3);
        FloatVector x32 = FloatVector.fromArray(F, acc, a3 + 2 * L).mul(c3);
        FloatVector x33 = FloatVector.fromArray(F, acc, a3 + 3 * L).mul(c3);
        for (int j = 0; j < n; j++) {
            int o = vOff[j] + d;
            FloatVector v0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, v, 2L * o, NATIVE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 16).reinterpretShape(F, 0));
            FloatVector v1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, v, 2L * (o + L), NATIVE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 16).reinterpretShape(F, 0));
            FloatVector v2 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, v, 2L * (o + 2 * L), NATIVE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 16).reinterpretShape(F, 0));
            FloatVector v3 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, v, 2L * (o + 3 * L), NATIVE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 16).reinterpretShape(F, 0));
            FloatVector b = FloatVector.broadcast(F, p[j]);
            x00 = b.fma(v0, x00);
            x01 = b.fma(v1, x01);
            x02 = b.fma(v2, x02);
            x03 = b.fma(v3, x03);
            b = FloatVector.broadcast(F, p[KEY_TILE + j]);
            x10 = b.fma(v0, x10);
            x11 = b.fma(v1, x11);
            x12 = b.fma(v2, x12);
            x13 = b.fma(v3, x13);
            b = FloatVector.broadcast(F, p[2 * KEY_TILE + j]);
            x20 = b.fma(v0, x20);
            x21 = b.fma(v1, x21);
            x22 = b.fma(v2, x22);
            x23 = b.fma(v3, x23);
            b = FloatVector.broadcast(F, p[3 * KEY_TILE + j]);
            x30 = b.fma(v0, x30);
            x31 = b.fma(v1, x31);
            x32 = b.fma(v2, x32);
            x33 = b.fma(v3, x33);
        }
        x00.intoArray(acc, a0);
        x01.intoArray(acc, a0 + L);
        x02.intoArray(acc, a0 + 2 * L);
        x03.intoArray(acc, a0 + 3 * L);
        x10.intoArray(acc, a1);
        x11.intoArray(acc, a1 + L);
        x12.intoArray(acc, a1 + 2 * L);
        x13.intoArray(acc, a1 + 3 * L);
        x20.intoArray(acc, a2);
        x21.intoArray(acc, a2 + L);
        x22.intoArray(acc, a2 + 2 * L);
        x23.intoArray(acc, a2 + 3 * L);
        x30.intoArray(acc, a3);
        x31.intoArray(acc, a3 + L);
        x32.intoArray(acc, a3 + 2 * L);
        x33.intoArray(acc, a3 + 3 * L);
    }

    private static void accumulate1(float[] p, int n, MemorySegment v, int[] vOff, int d, float[] acc, int a, int headDim,
                                    float c0, float c1, float c2, float c3) {
        int a0 = a + d, a1 = a0 + headDim, a2 = a1 + headDim, a3 = a2 + headDim;
        FloatVector x0 = FloatVector.fromArray(F, acc, a0).mul(c0), x1 = FloatVector.fromArray(F, acc, a1).mul(c1);
        FloatVector x2 = FloatVector.fromArray(F, acc, a2).mul(c2), x3 = FloatVector.fromArray(F, acc, a3).mul(c3);
        for (int j = 0; j < n; j++) {
            FloatVector v0 = loadF32(v, vOff[j] + d);
            x0 = FloatVector.broadcast(F, p[j]).fma(v0, x0);
            x1 = FloatVector.broadcast(F, p[KEY_TILE + j]).fma(v0, x1);
            x2 = FloatVector.broadcast(F, p[2 * KEY_TILE + j]).fma(v0, x2);
            x3 = FloatVector.broadcast(F, p[3 * KEY_TILE + j]).fma(v0, x3);
        }
        x0.intoArray(acc, a0);
        x1.intoArray(acc, a1);
        x2.intoArray(acc, a2);
        x3.intoArray(acc, a3);
    }

    /** {@link #accumulate1} over a BF16 cache: the same operations on the widened (exact) values. */
    private static void accumulate1Bf16(float[] p, int n, MemorySegment v, int[] vOff, int d, float[] acc, int a,
                                        int headDim, float c0, float c1, float c2, float c3) {
        int a0 = a + d, a1 = a0 + headDim, a2 = a1 + headDim, a3 = a2 + headDim;
        FloatVector x0 = FloatVector.fromArray(F, acc, a0).mul(c0), x1 = FloatVector.fromArray(F, acc, a1).mul(c1);
        FloatVector x2 = FloatVector.fromArray(F, acc, a2).mul(c2), x3 = FloatVector.fromArray(F, acc, a3).mul(c3);
        for (int j = 0; j < n; j++) {
            FloatVector v0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, v, 2L * (vOff[j] + d), NATIVE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 16).reinterpretShape(F, 0));
            x0 = FloatVector.broadcast(F, p[j]).fma(v0, x0);
            x1 = FloatVector.broadcast(F, p[KEY_TILE + j]).fma(v0, x1);
            x2 = FloatVector.broadcast(F, p[2 * KEY_TILE + j]).fma(v0, x2);
            x3 = FloatVector.broadcast(F, p[3 * KEY_TILE + j]).fma(v0, x3);
        }
        x0.intoArray(acc, a0);
        x1.intoArray(acc, a1);
        x2.intoArray(acc, a2);
        x3.intoArray(acc, a3);
    }

    /** Folds the chunk partial in {@code w.m, w.l, w.acc} into the running state {@code w.tm, w.tl, w.tacc}. */
    private void merge(Scratch w, int rows) {
        for (int r = 0; r < rows; r++) {
            float m2 = w.m[r];
            if (m2 == NEG_INF) continue;  // no position of this chunk is visible to the row
            float m1 = w.tm[r], m = Math.max(m1, m2);
            float a = m1 == m ? 1f : VectorMath.exp(m1 - m), b = m2 == m ? 1f : VectorMath.exp(m2 - m);
            w.tl[r] = w.tl[r] * a + w.l[r] * b;
            w.tm[r] = m;
            int o = r * headDim, d = 0;
            for (; d + L <= headDim; d += L) {
                FloatVector x = FloatVector.fromArray(F, w.tacc, o + d).mul(a);
                FloatVector.fromArray(F, w.acc, o + d).fma(FloatVector.broadcast(F, b), x).intoArray(w.tacc, o + d);
            }
            for (; d < headDim; d++) w.tacc[o + d] = Math.fma(w.acc[o + d], b, w.tacc[o + d] * a);
        }
    }

    /** {@code out = acc / sum} for each row of the unit. */
    private void finish(Scratch w, int rows) {
        for (int r = 0; r < rows; r++) {
            float sum = w.tl[r];
            int o = r * headDim, dst = w.qOff[r], d = 0;
            for (; d + L <= headDim; d += L) FloatVector.fromArray(F, w.tacc, o + d).div(sum).intoArray(out, dst + d);
            for (; d < headDim; d++) out[dst + d] = w.tacc[o + d] / sum;
        }
    }

    /** One thread's scratch: a chunk's partial state, the running state, a tile of probabilities and offsets. */
    private static final class Scratch {
        final int[] pos, qOff, kCol = new int[KEY_TILE], vOff = new int[KEY_TILE];
        final float[] m, l, sums, corr, acc, tm, tl, tacc, p = new float[4 * KEY_TILE];
        /** Keys gathered where a block does not hold whole vectors of positions: FP32 {@code [headDim][KEY_TILE]}. */
        final MemorySegment keys;
        /** The block table of the unit in progress. */
        int[] table;

        Scratch(int rows, int headDim, CpuKvCache cache) {
            pos = new int[rows];
            qOff = new int[rows];
            m = new float[rows];
            l = new float[rows];
            sums = new float[rows * L];
            corr = new float[rows];
            tm = new float[rows];
            tl = new float[rows];
            acc = new float[rows * headDim];
            tacc = new float[rows * headDim];
            keys = cache.arena.allocate((long) headDim * KEY_TILE * Float.BYTES, 64);
        }

        /** The chunk partial becomes the running state (the first chunk). */
        void keepChunk(int rows, int headDim) {
            System.arraycopy(m, 0, tm, 0, rows);
            System.arraycopy(l, 0, tl, 0, rows);
            System.arraycopy(acc, 0, tacc, 0, rows * headDim);
        }

        /** The chunk partial to {@code [m | l | acc]} at {@code at}. */
        void save(float[] dst, int at, int rows, int headDim) {
            System.arraycopy(m, 0, dst, at, rows);
            System.arraycopy(l, 0, dst, at + rows, rows);
            System.arraycopy(acc, 0, dst, at + 2 * rows, rows * headDim);
        }

        /** A chunk partial saved by {@link #save} back into {@code m, l, acc}. */
        void load(float[] src, int at, int rows, int headDim) {
            System.arraycopy(src, at, m, 0, rows);
            System.arraycopy(src, at + rows, l, 0, rows);
            System.arraycopy(src, at + 2 * rows, acc, 0, rows * headDim);
        }
    }
}
