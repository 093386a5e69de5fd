package io.tramontane.backend.cpu;

import io.tramontane.backend.KvCache;

/** FP32 key and value pools, one pair per layer: {@code [blocks * blockSize, kvHeads * headDim]}. */
final class CpuKvCache implements KvCache {
    final float[][] keys, values;
    final int blocks, blockSize, kvHeads, headDim;

    CpuKvCache(int layers, int blocks, int blockSize, int kvHeads, int headDim) {
        int perLayer = Math.multiplyExact(Math.multiplyExact(blocks, blockSize), kvHeads * headDim);
        this.keys = new float[layers][perLayer];
        this.values = new float[layers][perLayer];
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
    }

    /** Offset of token {@code position}'s row in a layer pool, through the sequence's block table. */
    int rowOffset(int[] blockTable, int position) {
        int block = blockTable[position / blockSize];
        return (block * blockSize + position % blockSize) * kvHeads * headDim;
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
