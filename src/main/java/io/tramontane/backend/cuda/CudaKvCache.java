package io.tramontane.backend.cuda;

import io.tramontane.backend.KvCache;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.weights.KvCacheScales;

/**
 * Key and value pools in device memory, one pair per layer, laid out like CpuKvCache:
 * {@code [blocks * blockSize, kvHeads * headDim]} of {@code dtype} (BF16 rounded to nearest even when stored; FP8
 * e4m3 of x / the layer's scale, saturated). The memory belongs to the backend's arena.
 */
final class CudaKvCache implements KvCache {
    final DeviceBuffer[] keys, values;
    final int blocks, blockSize, kvHeads, headDim;
    final KvCacheDtype dtype;
    final KvCacheScales scales;

    CudaKvCache(DeviceArena arena, int layers, int blocks, int blockSize, int kvHeads, int headDim, KvCacheDtype dtype,
                KvCacheScales scales) {
        if (layers < 1 || blocks < 1 || blockSize < 1 || kvHeads < 1 || headDim < 1) {
            throw new IllegalArgumentException("KV cache " + layers + " layers x " + blocks + " blocks x " + blockSize
                    + " tokens x " + kvHeads + " heads x " + headDim);
        }
        if (scales.layers() != layers) {
            throw new IllegalArgumentException("KV cache of " + layers + " layers given scales of " + scales.layers());
        }
        long bytes = Math.multiplyExact(Math.multiplyExact((long) blocks * blockSize, (long) kvHeads * headDim), dtype.bytes);
        this.keys = new DeviceBuffer[layers];
        this.values = new DeviceBuffer[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = arena.allocate(bytes);
            values[l] = arena.allocate(bytes);
        }
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.dtype = dtype;
        this.scales = scales;
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
    public void close() {}  // the pools are freed with the backend's arena
}
