package io.tramontane.backend.cpu;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.KvCache;
import java.util.List;

/**
 * FP32 key and value pools, one pair per layer, each {@code blocks x kvHeads} slabs of {@code blockSize x headDim}
 * floats. Within a slab, keys are transposed ({@code [headDim][blockSize]}: one vector load gives one dimension of
 * consecutive positions, so attention scores many keys per FMA without lane sums) and values are rows
 * ({@code [blockSize][headDim]}). Each (block, kv head) slab is contiguous: attention streams it in one run.
 */
final class CpuKvCache implements KvCache {
    final float[][] keys, values;
    final int blocks, blockSize, kvHeads, headDim;
    private CpuAttention attention;

    CpuKvCache(int layers, int blocks, int blockSize, int kvHeads, int headDim) {
        int perLayer = Math.multiplyExact(Math.multiplyExact(blocks, blockSize), kvHeads * headDim);
        this.keys = new float[layers][perLayer];
        this.values = new float[layers][perLayer];
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
    }

    /** Offset of the slab of {@code kvHead} in {@code block}, in a layer's key or value pool. */
    int slab(int block, int kvHead) {
        return (block * kvHeads + kvHead) * headDim * blockSize;
    }

    /** Stores each segment's rows of {@code k, v} ({@code [tokens, kvHeads * headDim]}) at its positions. */
    void write(int layer, CpuActivation k, CpuActivation v, AttentionBatch batch) {
        float[] keyPool = keys[layer], valuePool = values[layer], kd = k.data(), vd = v.data();
        int width = kvHeads * headDim;
        List<AttentionBatch.Segment> segments = batch.segments();
        for (int si = 0; si < segments.size(); si++) {  // by index: an iterator escapes where the list type varies
            AttentionBatch.Segment s = segments.get(si);
            for (int i = 0; i < s.length(); i++) {
                int position = s.start() + i, block = s.blockTable()[position / blockSize], slot = position % blockSize;
                int src = (s.firstRow() + i) * width;
                for (int h = 0; h < kvHeads; h++, src += headDim) {
                    int slab = slab(block, h);
                    System.arraycopy(vd, src, valuePool, slab + slot * headDim, headDim);
                    for (int d = 0, dst = slab + slot; d < headDim; d++, dst += blockSize) keyPool[dst] = kd[src + d];
                }
            }
        }
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
    public void close() {}
}
