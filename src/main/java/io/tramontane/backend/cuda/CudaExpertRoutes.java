package io.tramontane.backend.cuda;

import io.tramontane.backend.ExpertRoutes;
import io.tramontane.cuda.DeviceBuffer;

/**
 * A batch's expert routing in device memory, written by moe_route and moe_permute (layout in cuda-kernels/moe_core.cuh),
 * never read by the host: per routed row (slot = token * topK + j) its {@code expert} and {@code weight}; the sorted
 * {@code order} and its inverse {@code position}; per expert its first sorted row ({@code offsets}, experts + 1 ints);
 * the grouped GEMMs' {@code tiles} ((expert, first row) pairs of up to {@code tileRows} rows, {@code maxTiles} of them).
 * All slices of one pooled {@code storage} activation, which this record keeps reachable.
 */
record CudaExpertRoutes(int tokens, int topK, int experts, int tileRows, int maxTiles, CudaActivation storage,
                        DeviceBuffer expert, DeviceBuffer weight, DeviceBuffer order, DeviceBuffer position,
                        DeviceBuffer offsets, DeviceBuffer tiles) implements ExpertRoutes {

    /** 4-byte words of the routes of {@code tokens} tokens. */
    static int words(int tokens, int topK, int experts) {
        int rows = Math.multiplyExact(tokens, topK), tileRows = MoeKernels.tileRows(rows, experts);
        return Math.addExact(Math.addExact(Math.multiplyExact(4, rows), experts + 1),
                Math.multiplyExact(2, MoeKernels.maxTiles(rows, experts, tileRows)));
    }

    /** The routes laid out in {@code storage} (at least {@link #words} floats). */
    static CudaExpertRoutes in(CudaActivation storage, int tokens, int topK, int experts) {
        MoeKernels.requireRouting(tokens, experts, topK);
        int rows = tokens * topK, tileRows = MoeKernels.tileRows(rows, experts), maxTiles = MoeKernels.maxTiles(rows, experts, tileRows);
        if (storage.elements() < words(tokens, topK, experts)) {
            throw new IllegalArgumentException("routes of " + tokens + " tokens need " + words(tokens, topK, experts)
                    + " words, storage has " + storage.elements());
        }
        DeviceBuffer all = storage.data();
        long at = 0;
        DeviceBuffer expert = all.slice(at, 4L * rows);
        DeviceBuffer weight = all.slice(at += 4L * rows, 4L * rows);
        DeviceBuffer order = all.slice(at += 4L * rows, 4L * rows);
        DeviceBuffer position = all.slice(at += 4L * rows, 4L * rows);
        DeviceBuffer offsets = all.slice(at += 4L * rows, 4L * (experts + 1));
        DeviceBuffer tiles = all.slice(at + 4L * (experts + 1), 8L * maxTiles);
        return new CudaExpertRoutes(tokens, topK, experts, tileRows, maxTiles, storage, expert, weight, order, position,
                offsets, tiles);
    }

    static CudaExpertRoutes of(ExpertRoutes routes) {
        if (routes instanceof CudaExpertRoutes cuda) return cuda;
        throw new IllegalArgumentException("not CUDA expert routes: " + routes);
    }
}
