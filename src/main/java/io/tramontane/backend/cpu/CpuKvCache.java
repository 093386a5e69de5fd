package io.tramontane.backend.cpu;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.KvCache;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.host.HugePages;
import io.tramontane.weights.Floats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Key and value pools off the Java heap (on 2 MB pages where the OS gives them), one pair per layer, each
 * {@code kvHeads x blocks} slabs of {@code blockSize x headDim} elements, FP32 or BF16 (rounded to nearest even as
 * they are written: attention then reads exactly the values an FP32 cache of the rounded K/V would hold). Within a
 * slab, keys are transposed ({@code [headDim][blockSize]}: one vector load gives one dimension of consecutive
 * positions, so attention scores many keys per FMA without lane sums) and values are rows ({@code [blockSize][headDim]}).
 * Each (block, kv head) slab is contiguous: attention streams it in one run. Offsets are in elements.
 */
final class CpuKvCache implements KvCache {
    final KvCacheDtype dtype;
    final MemorySegment[] keys, values;
    final int blocks, blockSize, kvHeads, headDim;
    /** Holds the pools and the attention scratch; shared because the worker threads read them. */
    final Arena arena = Arena.ofShared();
    private CpuAttention attention;

    /** @param dtype F32 or BF16 (CpuBackend.Options checks) */
    CpuKvCache(KvCacheDtype dtype, int layers, int blocks, int blockSize, int kvHeads, int headDim) {
        long perLayer = (long) blocks * blockSize * kvHeads * headDim;
        if (perLayer > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("KV cache of " + blocks + " blocks of " + blockSize + " positions x " + kvHeads
                    + " kv heads x " + headDim + ": " + perLayer + " elements per layer, more than the CPU backend's "
                    + Integer.MAX_VALUE + "; ask for fewer blocks (--kv-cache-gib)");
        }
        this.dtype = dtype;
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.keys = new MemorySegment[layers];
        this.values = new MemorySegment[layers];
        try {
            for (int l = 0; l < layers; l++) {
                keys[l] = HugePages.allocate(arena, perLayer * dtype.bytes);
                values[l] = HugePages.allocate(arena, perLayer * dtype.bytes);
            }
        } catch (OutOfMemoryError e) {
            arena.close();
            var error = new OutOfMemoryError("KV cache of " + layers + " layers x 2 x " + perLayer * dtype.bytes
                    + " bytes: the machine cannot give it (" + e.getMessage() + "); ask for less with --kv-cache-gib");
            error.initCause(e);
            throw error;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Offset of the slab of {@code kvHead} in {@code block}, in a layer's key or value pool: a kv head's slabs lie
     * together, so a context whose blocks were handed out in order is one run of memory per head.
     */
    int slab(int block, int kvHead) {
        return (kvHead * blocks + block) * headDim * blockSize;
    }

    /** Stores each segment's rows of {@code k, v} ({@code [tokens, kvHeads * headDim]}) at its positions. */
    void write(int layer, CpuActivation k, CpuActivation v, AttentionBatch batch) {
        MemorySegment keyPool = keys[layer], valuePool = values[layer];
        float[] kd = k.data(), vd = v.data();
        int width = kvHeads * headDim;
        List<AttentionBatch.Segment> segments = batch.segments();
        for (int si = 0; si < segments.size(); si++) {  // by index: an iterator escapes where the list type varies
            AttentionBatch.Segment s = segments.get(si);
            for (int i = 0; i < s.length(); i++) {
                int position = s.start() + i, block = s.blockTable()[position / blockSize], slot = position % blockSize;
                int src = (s.firstRow() + i) * width;
                for (int h = 0; h < kvHeads; h++, src += headDim) {
                    int slab = slab(block, h);
                    for (int d = 0, row = slab + slot * headDim; d < headDim; d++) put(valuePool, row + d, vd[src + d]);
                    for (int d = 0, dst = slab + slot; d < headDim; d++, dst += blockSize) put(keyPool, dst, kd[src + d]);
                }
            }
        }
    }

    private void put(MemorySegment pool, int index, float x) {
        if (dtype == KvCacheDtype.BF16) pool.setAtIndex(ValueLayout.JAVA_SHORT, index, Floats.floatToBf16(x));
        else pool.setAtIndex(ValueLayout.JAVA_FLOAT, index, x);
    }

    /** The cached element at {@code index} of a pool, as attention reads it. */
    float get(MemorySegment pool, int index) {
        return dtype == KvCacheDtype.BF16 ? Floats.bf16ToFloat(pool.getAtIndex(ValueLayout.JAVA_SHORT, index))
                : pool.getAtIndex(ValueLayout.JAVA_FLOAT, index);
    }

    /** This cache's attention workspace (scratch reused by every call). */
    CpuAttention attention() {
        if (attention == null) attention = new CpuAttention(this);
        return attention;
    }

    @Override
    public int blocks() {
        return blocks;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
