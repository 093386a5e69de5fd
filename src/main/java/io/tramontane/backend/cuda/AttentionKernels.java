package io.tramontane.backend.cuda;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Plans and launches one attention call (cuda-kernels/attention.cu): {@code kv_store_<dtype>} writes the step's k/v
 * rows into the layer's pools, then
 * <ul>
 *   <li>a BF16 or FP8 cache with head_dim 64 or 128 takes the tensor-core kernels: {@code attention_prefill_d<D>} (one CTA
 *       per query head and Q tile) for segments of {@link AttentionPlan#PREFILL_MIN_ROWS} rows or more,
 *       {@code attention_decode_d<D>} (one CTA per decode unit, kv head and slice of 16 query heads) for the rows of
 *       shorter segments, and {@code attention_reduce} for the rows whose context the plan split;</li>
 *   <li>any other cache (FP32, other head dims up to {@link #MAX_HEAD_DIM}) takes {@code attention_<dtype>}, one
 *       CTA per query head and row.</li>
 * </ul>
 * An FP8 cache's kernels carry the suffix {@code _e4m3} and take the layer's scales: kv_store divides by them, the
 * attention kernels get the softmax scale times the K scale and multiply their output by the V scale.
 * The constants mirror cuda-kernels/attention_core.cuh; AttentionEmulationTest runs these launches there.
 */
final class AttentionKernels {
    static final int STORE_THREADS = 256, GENERIC_THREADS = 128, MAX_HEAD_DIM = 256;
    static final int GROUP_ROWS = 16, DECODE_THREADS = 128, REDUCE_THREADS = 128;
    /** Decode CTAs per SM the split aims for: the d128 kernel fits three per SM, so a little over a wave. */
    static final int DECODE_CTAS_PER_SM = 4;

    /** Every kernel with its parameter count. */
    private static final Map<String, Integer> KERNELS = new LinkedHashMap<>();

    static {
        for (KvCacheDtype dtype : KvCacheDtype.values()) {
            int scales = scaled(dtype) ? 1 : 0;  // FP8: v_scale (and k_scale for the store)
            KERNELS.put(storeKernel(dtype), 7 + 2 * scales);
            KERNELS.put(genericKernel(dtype), 14 + scales);
            if (dtype == KvCacheDtype.F32) continue;
            for (int headDim : new int[] {64, 128}) {
                KERNELS.put(prefillKernel(headDim, dtype), 11 + scales);
                KERNELS.put(decodeKernel(headDim, dtype), 13 + scales);
            }
        }
        KERNELS.put("attention_reduce", 6);
    }

    /** One kernel launch of an attention call: its kernel, grid and parameters (added in the kernel's order). */
    record Launch(String kernel, LaunchConfig config, Consumer<KernelArgs> arguments) {}

    /** The device copy of an {@link AttentionPlan}'s packed ints, sliced by section. */
    record PlanBuffers(DeviceBuffer rows, DeviceBuffer slots, DeviceBuffer positions, DeviceBuffer tableOffsets,
                       DeviceBuffer tiles, DeviceBuffer units, DeviceBuffer reduce, DeviceBuffer tables) {
        static PlanBuffers of(AttentionPlan plan, DeviceBuffer packed) {
            Launcher.requireInts(packed, plan.packed().length, "attention plan");
            int n = plan.items();
            boolean generic = plan.kind() == AttentionPlan.Kind.GENERIC;
            return new PlanBuffers(ints(packed, 0, n), ints(packed, plan.slotsStart(), n),
                    ints(packed, plan.positionsStart(), generic ? n : 0), ints(packed, plan.tableOffsetsStart(), generic ? n : 0),
                    ints(packed, plan.tilesStart(), AttentionPlan.TILE_INTS * plan.tiles()),
                    ints(packed, plan.unitsStart(), AttentionPlan.UNIT_INTS * plan.units()),
                    ints(packed, plan.reduceStart(), AttentionPlan.REDUCE_INTS * plan.reduceItems()),
                    ints(packed, plan.tablesStart(), plan.tableInts()));
        }

        /** A section; an empty one (absent from this kind of plan) as an empty slice at the start. */
        private static DeviceBuffer ints(DeviceBuffer packed, int start, int count) {
            return count == 0 ? packed.slice(0, 0) : packed.slice(start * (long) Integer.BYTES, count * (long) Integer.BYTES);
        }
    }

    /** The cache's pools of one layer, its shape and (FP8) the layer's K and V scales. */
    record Pools(DeviceBuffer keys, DeviceBuffer values, long poolRows, int kvHeads, int headDim, int blockSize,
                 KvCacheDtype dtype, float keyScale, float valueScale) {
        Pools {
            if (!(keyScale > 0 && Float.isFinite(keyScale) && valueScale > 0 && Float.isFinite(valueScale))) {
                throw new IllegalArgumentException("kv cache scales must be finite and positive: k " + keyScale + ", v "
                        + valueScale);
            }
        }

        /** Scales of 1. */
        Pools(DeviceBuffer keys, DeviceBuffer values, long poolRows, int kvHeads, int headDim, int blockSize,
              KvCacheDtype dtype) {
            this(keys, values, poolRows, kvHeads, headDim, blockSize, dtype, 1f, 1f);
        }

        static Pools of(CudaKvCache cache, int layer) {
            return new Pools(cache.keys[layer], cache.values[layer], (long) cache.blocks * cache.blockSize, cache.kvHeads,
                    cache.headDim, cache.blockSize, cache.dtype, cache.scales.key(layer), cache.scales.value(layer));
        }

        int width() {
            return kvHeads * headDim;
        }

        /** Whether the tensor-core kernels serve this cache. */
        boolean tiled() {
            return dtype != KvCacheDtype.F32 && (headDim == 64 || headDim == 128);
        }
    }

    /** Where split decode rows leave their partial results: o [slots, heads * headDim], (max, sum) [slots, heads * 2]. */
    record Partials(DeviceBuffer o, DeviceBuffer maxSum) {}

    private final Map<String, Launcher> launchers = new LinkedHashMap<>();
    private final int targetCtas;

    /** The kernels of {@code module}, sized for a device of {@code multiprocessors} SMs. */
    AttentionKernels(KernelModule module, int multiprocessors) {
        KERNELS.forEach((name, parameters) -> launchers.put(name, Launcher.of(module, name, parameters)));
        for (KvCacheDtype dtype : new KvCacheDtype[] {KvCacheDtype.BF16, KvCacheDtype.FP8_E4M3}) {
            for (int headDim : new int[] {64, 128}) {  // above the 48 KB a kernel gets without asking
                module.driver().setMaxDynamicSharedMemory(launchers.get(prefillKernel(headDim, dtype)).kernel(),
                        prefillSharedBytes(headDim));
                module.driver().setMaxDynamicSharedMemory(launchers.get(decodeKernel(headDim, dtype)).kernel(),
                        decodeSharedBytes(headDim));
            }
        }
        this.targetCtas = multiprocessors * DECODE_CTAS_PER_SM;
    }

    /** The plan of one call: the tensor-core kernels' where they serve the cache, the generic kernel's otherwise. */
    AttentionPlan plan(AttentionBatch batch, int batchRows, Pools pools, int heads) {
        return plan(batch, batchRows, pools, heads, targetCtas);
    }

    static AttentionPlan plan(AttentionBatch batch, int batchRows, Pools pools, int heads, int targetCtas) {
        int blocks = Math.toIntExact(pools.poolRows() / pools.blockSize());
        if (!pools.tiled()) return AttentionPlan.generic(batch, batchRows, blocks, pools.blockSize());
        var tiling = new AttentionPlan.Tiling(16 * prefillWarps(pools.headDim()), pools.kvHeads() * groupSlices(heads, pools),
                targetCtas);
        return AttentionPlan.tiled(batch, batchRows, blocks, pools.blockSize(), tiling);
    }

    /** Enqueues {@code launches} in order on {@code stream}. */
    void run(Stream stream, List<Launch> launches) {
        for (Launch launch : launches) launchers.get(launch.kernel()).launch(stream, launch.config(), launch.arguments());
    }

    /**
     * The launches of one attention call planned by {@link #plan}: store, then attend. {@code partials} may be null
     * when the plan has no partial slots.
     */
    static List<Launch> launches(AttentionPlan plan, PlanBuffers buffers, Pools pools, CudaActivation q, CudaActivation k,
                                 CudaActivation v, CudaActivation out, Partials partials, float scale) {
        requirePools(pools);
        int headDim = pools.headDim(), heads = heads(q, pools);
        if (out.rows() != q.rows() || out.cols() != q.cols()) {
            throw new IllegalArgumentException("attention output [" + out.rows() + ", " + out.cols() + "] for q ["
                    + q.rows() + ", " + q.cols() + "]");
        }
        if (k.cols() != pools.width() || v.cols() != pools.width() || k.rows() != q.rows() || v.rows() != q.rows()) {
            throw new IllegalArgumentException("k [" + k.rows() + ", " + k.cols() + "] and v [" + v.rows() + ", " + v.cols()
                    + "] for q of " + q.rows() + " rows and a cache of width " + pools.width());
        }
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("attention scale must be finite: " + scale);
        if (plan.items() == 0) return List.of();
        int group = heads / pools.kvHeads();
        KvCacheDtype dtype = pools.dtype();
        boolean scaled = scaled(dtype);
        // FP8: q . (k_stored * keyScale) = (q . k_stored) * keyScale, so the K scale joins the softmax scale
        float scoreScale = scaled ? scale * pools.keyScale() : scale;
        List<Launch> launches = new ArrayList<>();
        launches.add(new Launch(storeKernel(dtype), storeConfig(plan.items()), args -> {
            args.clear().pointer(k.data()).pointer(v.data()).pointer(buffers.rows()).pointer(buffers.slots())
                    .pointer(pools.keys()).pointer(pools.values()).i32(pools.width());
            if (scaled) args.f32(pools.keyScale()).f32(pools.valueScale());
        }));
        if (plan.kind() == AttentionPlan.Kind.GENERIC) {
            if (headDim > MAX_HEAD_DIM) throw new IllegalArgumentException("head_dim " + headDim + " > " + MAX_HEAD_DIM);
            launches.add(new Launch(genericKernel(dtype), genericConfig(heads, plan.items()), args -> {
                args.clear().pointer(q.data()).pointer(pools.keys()).pointer(pools.values()).pointer(buffers.rows())
                        .pointer(buffers.positions()).pointer(buffers.tableOffsets()).pointer(buffers.tables())
                        .pointer(out.data()).i32(q.cols()).i32(headDim).i32(pools.width()).i32(group)
                        .i32(pools.blockSize()).f32(scoreScale);
                if (scaled) args.f32(pools.valueScale());
            }));
            return launches;
        }
        if (plan.tiles() > 0) {
            launches.add(new Launch(prefillKernel(headDim, dtype), prefillConfig(headDim, plan.tiles(), heads), args -> {
                args.clear().pointer(q.data()).pointer(pools.keys()).pointer(pools.values()).pointer(buffers.tiles())
                        .pointer(buffers.tables()).pointer(out.data()).i32(q.cols()).i32(pools.width()).i32(group)
                        .i32(pools.blockSize()).f32(scoreScale);
                if (scaled) args.f32(pools.valueScale());
            }));
        }
        if (plan.units() > 0) {
            boolean split = plan.partialSlots() > 0;
            if (split) {
                if (partials == null) throw new IllegalArgumentException("the plan splits rows but has no partials");
                Launcher.requireFloats(partials.o(), (long) plan.partialSlots() * q.cols(), "partial outputs");
                Launcher.requireFloats(partials.maxSum(), (long) plan.partialSlots() * heads * 2, "partial max and sum");
            }
            launches.add(new Launch(decodeKernel(headDim, dtype), decodeConfig(headDim, plan.units(), pools.kvHeads(), group),
                    args -> {
                        args.clear().pointer(q.data()).pointer(pools.keys()).pointer(pools.values())
                                .pointer(buffers.units()).pointer(buffers.tables()).pointer(out.data());
                        if (split) {
                            args.pointer(partials.o()).pointer(partials.maxSum());
                        } else {
                            args.i64(0).i64(0);  // null: every unit writes out
                        }
                        args.i32(q.cols()).i32(pools.width()).i32(group).i32(pools.blockSize()).f32(scoreScale);
                        if (scaled) args.f32(pools.valueScale());
                    }));
        }
        if (plan.reduceItems() > 0) {
            launches.add(new Launch("attention_reduce", reduceConfig(plan.reduceItems(), heads), args -> args.clear()
                    .pointer(buffers.reduce()).pointer(partials.o()).pointer(partials.maxSum()).pointer(out.data())
                    .i32(q.cols()).i32(headDim)));
        }
        return launches;
    }

    // ---- names, grids and shared memory

    static String storeKernel(KvCacheDtype dtype) {
        return "kv_store_" + dtype.suffix;
    }

    static String genericKernel(KvCacheDtype dtype) {
        return "attention_" + dtype.suffix;
    }

    /** BF16: attention_prefill_d{headDim}; FP8: the same with _e4m3. */
    static String prefillKernel(int headDim, KvCacheDtype dtype) {
        return "attention_prefill_d" + headDim + tiledSuffix(dtype);
    }

    static String decodeKernel(int headDim, KvCacheDtype dtype) {
        return "attention_decode_d" + headDim + tiledSuffix(dtype);
    }

    private static String tiledSuffix(KvCacheDtype dtype) {
        return switch (dtype) {
            case BF16 -> "";
            case FP8_E4M3 -> "_e4m3";
            case F32 -> throw new IllegalArgumentException("an F32 cache has no tensor-core attention kernels");
        };
    }

    /** Whether the cache's kernels take K and V scales (FP8). */
    static boolean scaled(KvCacheDtype dtype) {
        return dtype == KvCacheDtype.FP8_E4M3;
    }

    /** Warps of a prefill CTA, 16 query rows each: head_dim 64 takes 128-row tiles, 128 takes 64 (registers). */
    static int prefillWarps(int headDim) {
        return headDim == 64 ? 8 : 4;
    }

    /** Padded BF16 shared-memory rows: 16 bytes more than the head, for conflict-free ldmatrix. */
    private static int paddedRowBytes(int headDim) {
        return (headDim + 8) * 2;
    }

    static int genericSharedBytes() {
        return MAX_HEAD_DIM * 4 + GENERIC_THREADS * 4 + GENERIC_THREADS * 8 + 32 * 4;
    }

    /** The Q tile and two stages of K and of V. */
    static int prefillSharedBytes(int headDim) {
        return (16 * prefillWarps(headDim) + 4 * AttentionPlan.KEY_TILE) * paddedRowBytes(headDim);
    }

    /** 16 query heads and two stages of K and of V. */
    static int decodeSharedBytes(int headDim) {
        return (GROUP_ROWS + 4 * AttentionPlan.KEY_TILE) * paddedRowBytes(headDim);
    }

    /** Decode CTAs per (row, kv head): one per 16 query heads of the group. */
    static int groupSlices(int heads, Pools pools) {
        return (heads / pools.kvHeads() + GROUP_ROWS - 1) / GROUP_ROWS;
    }

    static LaunchConfig storeConfig(int items) {
        Launcher.requirePositive("attention items", items);
        return new LaunchConfig(Dim3.of(items), Dim3.of(STORE_THREADS), 0);
    }

    static LaunchConfig genericConfig(int heads, int items) {
        Launcher.requirePositive("attention grid", heads, items);
        Launcher.requireGridYz(items, "attention items");
        return new LaunchConfig(Dim3.of(heads, items), Dim3.of(GENERIC_THREADS), genericSharedBytes());
    }

    /** Heads in x: CTAs start x-major, so all heads of the longest tile (the plan's first) start first. */
    static LaunchConfig prefillConfig(int headDim, int tiles, int heads) {
        Launcher.requirePositive("prefill grid", tiles, heads);
        Launcher.requireGridYz(tiles, "prefill tiles");
        return new LaunchConfig(Dim3.of(heads, tiles), Dim3.of(32 * prefillWarps(headDim)), prefillSharedBytes(headDim));
    }

    static LaunchConfig decodeConfig(int headDim, int units, int kvHeads, int group) {
        Launcher.requirePositive("decode grid", units, kvHeads, group);
        Launcher.requireGridYz(kvHeads, "kv heads");
        return new LaunchConfig(new Dim3(units, kvHeads, (group + GROUP_ROWS - 1) / GROUP_ROWS), Dim3.of(DECODE_THREADS),
                decodeSharedBytes(headDim));
    }

    static LaunchConfig reduceConfig(int items, int heads) {
        Launcher.requirePositive("reduce grid", items, heads);
        Launcher.requireGridYz(heads, "query heads");
        return new LaunchConfig(Dim3.of(items, heads), Dim3.of(REDUCE_THREADS), 0);
    }

    private static int heads(CudaActivation q, Pools pools) {
        int headDim = pools.headDim();
        if (q.cols() % headDim != 0 || (q.cols() / headDim) % pools.kvHeads() != 0) {
            throw new IllegalArgumentException("q has " + q.cols() + " columns: not a multiple of " + pools.kvHeads()
                    + " kv heads of " + headDim);
        }
        return q.cols() / headDim;
    }

    private static void requirePools(Pools pools) {
        Launcher.requirePositive("cache shape", pools.poolRows(), pools.kvHeads(), pools.headDim(), pools.blockSize());
        long bytes = Math.multiplyExact(pools.poolRows() * pools.width(), pools.dtype().bytes);
        pools.keys().requireBytes(bytes, "key pool");
        pools.values().requireBytes(bytes, "value pool");
    }
}
