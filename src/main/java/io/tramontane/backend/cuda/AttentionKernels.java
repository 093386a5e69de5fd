package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;

/**
 * Launches {@code kv_store_f32} (new k/v rows into the layer's pools) and {@code attention_f32} (one block per
 * query head and work item, online softmax over the block table) of cuda-kernels/attention.cu.
 */
final class AttentionKernels {
    static final int STORE_THREADS = 256, ATTENTION_THREADS = 128, MAX_HEAD_DIM = 256;
    private final Launcher store, attention;

    AttentionKernels(KernelModule module) {
        store = Launcher.of(module, "kv_store_f32", 7);
        attention = Launcher.of(module, "attention_f32", 14);
    }

    /** The device copy of an {@link AttentionPlan}'s packed ints, sliced by kind. */
    record PlanBuffers(int items, DeviceBuffer rows, DeviceBuffer positions, DeviceBuffer tableOffsets,
                       DeviceBuffer slots, DeviceBuffer tables) {
        static PlanBuffers of(AttentionPlan plan, DeviceBuffer packed) {
            int n = plan.items();
            Launcher.requireInts(packed, plan.packed().length, "attention plan");
            long b = Integer.BYTES;
            return new PlanBuffers(n, packed.slice(0, n * b), packed.slice(n * b, n * b), packed.slice(2 * n * b, n * b),
                    packed.slice(3 * n * b, n * b), packed.slice(4 * n * b, plan.tableInts() * b));
        }
    }

    /** The cache's pools of one layer and its shape. */
    record Pools(DeviceBuffer keys, DeviceBuffer values, long poolRows, int kvHeads, int headDim, int blockSize) {
        static Pools of(CudaKvCache cache, int layer) {
            return new Pools(cache.keys[layer], cache.values[layer], (long) cache.blocks * cache.blockSize, cache.kvHeads,
                    cache.headDim, cache.blockSize);
        }

        int width() {
            return kvHeads * headDim;
        }
    }

    void store(Stream stream, CudaActivation k, CudaActivation v, PlanBuffers plan, Pools pools) {
        store.launch(stream, storeConfig(plan.items()), args -> storeArguments(args, k, v, plan, pools));
    }

    void attend(Stream stream, CudaActivation q, PlanBuffers plan, Pools pools, float scale, CudaActivation out) {
        int heads = q.cols() / pools.headDim();
        attention.launch(stream, attentionConfig(heads, plan.items()), args -> attentionArguments(args, q, plan, pools, scale, out));
    }

    static LaunchConfig storeConfig(int items) {
        Launcher.requirePositive("attention items", items);
        return new LaunchConfig(Dim3.of(items), Dim3.of(STORE_THREADS), 0);
    }

    static LaunchConfig attentionConfig(int heads, int items) {
        Launcher.requirePositive("attention grid", heads, items);
        Launcher.requireGridYz(items, "attention items");
        return new LaunchConfig(Dim3.of(heads, items), Dim3.of(ATTENTION_THREADS), 0);
    }

    static KernelArgs storeArguments(KernelArgs args, CudaActivation k, CudaActivation v, PlanBuffers plan, Pools pools) {
        requirePools(pools);
        if (k.cols() != pools.width() || v.cols() != pools.width() || v.rows() != k.rows()) {
            throw new IllegalArgumentException("k [" + k.rows() + ", " + k.cols() + "] and v [" + v.rows() + ", " + v.cols()
                    + "] for a cache of width " + pools.width());
        }
        return args.clear().pointer(k.data()).pointer(v.data()).pointer(plan.rows()).pointer(plan.slots())
                .pointer(pools.keys()).pointer(pools.values()).i32(pools.width());
    }

    static KernelArgs attentionArguments(KernelArgs args, CudaActivation q, PlanBuffers plan, Pools pools, float scale,
                                         CudaActivation out) {
        requirePools(pools);
        int headDim = pools.headDim();
        if (headDim > MAX_HEAD_DIM) throw new IllegalArgumentException("head_dim " + headDim + " > " + MAX_HEAD_DIM);
        if (q.cols() % headDim != 0 || (q.cols() / headDim) % pools.kvHeads() != 0) {
            throw new IllegalArgumentException("q has " + q.cols() + " columns: not a multiple of " + pools.kvHeads()
                    + " kv heads of " + headDim);
        }
        if (out.rows() != q.rows() || out.cols() != q.cols()) {
            throw new IllegalArgumentException("attention output [" + out.rows() + ", " + out.cols() + "] for q ["
                    + q.rows() + ", " + q.cols() + "]");
        }
        int group = q.cols() / headDim / pools.kvHeads();
        return args.clear().pointer(q.data()).pointer(pools.keys()).pointer(pools.values()).pointer(plan.rows())
                .pointer(plan.positions()).pointer(plan.tableOffsets()).pointer(plan.tables()).pointer(out.data())
                .i32(q.cols()).i32(headDim).i32(pools.width()).i32(group).i32(pools.blockSize()).f32(scale);
    }

    private static void requirePools(Pools pools) {
        Launcher.requirePositive("cache shape", pools.poolRows(), pools.kvHeads(), pools.headDim(), pools.blockSize());
        Launcher.requireFloats(pools.keys(), pools.poolRows() * pools.width(), "key pool");
        Launcher.requireFloats(pools.values(), pools.poolRows() * pools.width(), "value pool");
    }
}
