package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.AttentionBatch.Segment;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.weights.KvCacheScales;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which attention kernels a call launches, on what grid, with which parameters: up to the FFM boundary, no GPU. */
class AttentionKernelsTest {
    private static final int H100_TARGET = 132 * AttentionKernels.DECODE_CTAS_PER_SM;
    private final Arena arena = Arena.ofConfined();
    private long nextAddress = 0x10000;

    @AfterEach
    void close() {
        arena.close();
    }

    private DeviceBuffer buffer(long bytes) {
        DeviceBuffer b = new DeviceBuffer(nextAddress, bytes);
        nextAddress += bytes + 256;
        return b;
    }

    private CudaActivation activation(int rows, int cols) {
        DeviceBuffer all = buffer(((long) rows * cols + 64) * 4);
        return new CudaActivation(all.slice(0, (long) rows * cols * 4), all, rows, cols);
    }

    private AttentionKernels.Pools pools(int blocks, int blockSize, int kvHeads, int headDim, KvCacheDtype dtype) {
        long bytes = (long) blocks * blockSize * kvHeads * headDim * dtype.bytes;
        return new AttentionKernels.Pools(buffer(bytes), buffer(bytes), (long) blocks * blockSize, kvHeads, headDim, blockSize, dtype);
    }

    /** The parameter slots of a launch as cuLaunchKernel would read them. */
    private long[] slots(AttentionKernels.Launch launch) {
        KernelArgs args = new KernelArgs(arena, 16);
        launch.arguments().accept(args);
        long[] slots = new long[args.count()];
        for (int i = 0; i < slots.length; i++) slots[i] = args.array().getAtIndex(ADDRESS, i).reinterpret(8).get(JAVA_LONG, 0);
        return slots;
    }

    private static float f32(long slot) {
        return Float.intBitsToFloat((int) slot);
    }

    private record Call(AttentionPlan plan, AttentionKernels.PlanBuffers buffers, CudaActivation q, CudaActivation k,
                        CudaActivation v, CudaActivation out, AttentionKernels.Partials partials,
                        List<AttentionKernels.Launch> launches) {}

    private Call call(AttentionBatch batch, int rows, AttentionKernels.Pools pools, int heads, int target) {
        AttentionPlan plan = AttentionKernels.plan(batch, rows, pools, heads, target);
        var buffers = AttentionKernels.PlanBuffers.of(plan, buffer(plan.packed().length * 4L));
        CudaActivation q = activation(rows, heads * pools.headDim()), out = activation(rows, heads * pools.headDim());
        CudaActivation k = activation(rows, pools.width()), v = activation(rows, pools.width());
        var partials = plan.partialSlots() == 0 ? null : new AttentionKernels.Partials(
                buffer(4L * plan.partialSlots() * heads * pools.headDim()), buffer(8L * plan.partialSlots() * heads));
        return new Call(plan, buffers, q, k, v, out, partials,
                AttentionKernels.launches(plan, buffers, pools, q, k, v, out, partials, 0.125f));
    }

    @Test
    void theTensorCoreKernelsServeBf16CachesOfHeadDim64And128() {
        assertThat(pools(4, 16, 2, 64, KvCacheDtype.BF16).tiled()).isTrue();
        assertThat(pools(4, 16, 2, 128, KvCacheDtype.BF16).tiled()).isTrue();
        assertThat(pools(4, 16, 2, 96, KvCacheDtype.BF16).tiled()).isFalse();
        assertThat(pools(4, 16, 2, 128, KvCacheDtype.F32).tiled()).isFalse();
    }

    @Test
    void sharedMemoryIsTheQueryTileAndTwoStagesOfPaddedRows() {
        assertThat(AttentionKernels.prefillSharedBytes(64)).isEqualTo((128 + 4 * 64) * 72 * 2);
        assertThat(AttentionKernels.prefillSharedBytes(128)).isEqualTo((64 + 4 * 64) * 136 * 2);
        assertThat(AttentionKernels.decodeSharedBytes(128)).isEqualTo((16 + 4 * 64) * 136 * 2);
        assertThat(AttentionKernels.genericSharedBytes()).isEqualTo(2688);
        assertThat(AttentionKernels.prefillSharedBytes(128)).isLessThanOrEqualTo(227 * 1024 / 2);  // two CTAs per SM
        assertThat(AttentionKernels.decodeSharedBytes(128)).isLessThanOrEqualTo(227 * 1024 / 3);   // three
    }

    @Test
    void aPrefillBesideFewDecodesStoresTilesSplitsAndReduces() {
        var pools = pools(300, 16, 8, 128, KvCacheDtype.BF16);
        AttentionBatch batch = new AttentionBatch(List.of(new Segment(0, 100, 0, IntStream.range(0, 7).toArray()),
                new Segment(100, 1, 4000, IntStream.range(7, 258).toArray()), new Segment(101, 1, 20, new int[] {258, 259})));
        Call c = call(batch, 102, pools, 32, H100_TARGET);
        assertThat(c.launches()).extracting(AttentionKernels.Launch::kernel)
                .containsExactly("kv_store_bf16", "attention_prefill_d128", "attention_decode_d128", "attention_reduce");

        long[] store = slots(c.launches().get(0));
        assertThat(c.launches().get(0).config()).isEqualTo(new LaunchConfig(Dim3.of(102), Dim3.of(256), 0));
        assertThat(store).containsExactly(c.k().data().address(), c.v().data().address(), c.buffers().rows().address(),
                c.buffers().slots().address(), pools.keys().address(), pools.values().address(), 8 * 128);

        // every query head of two 64-row tiles of the prompt
        assertThat(c.launches().get(1).config()).isEqualTo(new LaunchConfig(Dim3.of(32, 2), Dim3.of(128), 87040));
        long[] prefill = slots(c.launches().get(1));
        assertThat(prefill).hasSize(11);
        assertThat(prefill[0]).isEqualTo(c.q().data().address());
        assertThat(prefill[3]).isEqualTo(c.buffers().tiles().address());
        assertThat(prefill[4]).isEqualTo(c.buffers().tables().address());
        assertThat(prefill[5]).isEqualTo(c.out().data().address());
        assertThat(prefill[6]).as("q_cols").isEqualTo(32 * 128);
        assertThat(prefill[7]).as("kv_width").isEqualTo(8 * 128);
        assertThat(prefill[8]).as("group").isEqualTo(4);
        assertThat(prefill[9]).as("block size").isEqualTo(16);
        assertThat(f32(prefill[10])).isEqualTo(0.125f);

        // 2 decode rows x 8 kv heads < 528 CTAs: the 4001-key context is split, the 21-key one is not
        AttentionPlan plan = c.plan();
        assertThat(plan.reduceItems()).isEqualTo(1);
        assertThat(c.launches().get(2).config()).isEqualTo(
                new LaunchConfig(new Dim3(plan.units(), 8, 1), Dim3.of(128), AttentionKernels.decodeSharedBytes(128)));
        long[] decode = slots(c.launches().get(2));
        assertThat(decode).hasSize(13);
        assertThat(decode[3]).isEqualTo(c.buffers().units().address());
        assertThat(decode[5]).isEqualTo(c.out().data().address());
        assertThat(decode[6]).isEqualTo(c.partials().o().address());
        assertThat(decode[7]).isEqualTo(c.partials().maxSum().address());
        assertThat(decode[10]).as("group").isEqualTo(4);
        assertThat(f32(decode[12])).isEqualTo(0.125f);

        assertThat(c.launches().get(3).config()).isEqualTo(new LaunchConfig(Dim3.of(1, 32), Dim3.of(128), 0));
        assertThat(slots(c.launches().get(3))).containsExactly(c.buffers().reduce().address(), c.partials().o().address(),
                c.partials().maxSum().address(), c.out().data().address(), 32 * 128, 128);
    }

    @Test
    void unsplitDecodesPassNullPartialsAndNeedNoReduce() {
        var pools = pools(300, 16, 8, 128, KvCacheDtype.BF16);
        AttentionBatch batch = new AttentionBatch(List.of(new Segment(0, 1, 4000, IntStream.range(0, 251).toArray())));
        Call c = call(batch, 1, pools, 32, 1);
        assertThat(c.launches()).extracting(AttentionKernels.Launch::kernel).containsExactly("kv_store_bf16", "attention_decode_d128");
        long[] decode = slots(c.launches().get(1));
        assertThat(decode[6]).isZero();
        assertThat(decode[7]).isZero();
    }

    @Test
    void groupsOfMoreThan16HeadsTakeOneDecodeCtaPerSlice() {
        var pools = pools(10, 16, 1, 64, KvCacheDtype.BF16);
        Call c = call(new AttentionBatch(List.of(new Segment(0, 1, 10, new int[] {3}))), 1, pools, 24, H100_TARGET);
        assertThat(c.launches().get(1).config()).isEqualTo(new LaunchConfig(new Dim3(1, 1, 2), Dim3.of(128),
                AttentionKernels.decodeSharedBytes(64)));
        // head_dim 64 prefills run 128-row tiles on 8 warps
        Call prefill = call(new AttentionBatch(List.of(new Segment(0, 130, 0, IntStream.range(0, 9).toArray()))), 130,
                pools(10, 16, 1, 64, KvCacheDtype.BF16), 24, H100_TARGET);
        assertThat(prefill.launches().get(1).config()).isEqualTo(new LaunchConfig(Dim3.of(24, 2), Dim3.of(256), 55296));
    }

    @Test
    void fp32CachesAndOtherHeadDimsTakeTheGenericKernel() {
        AttentionBatch batch = new AttentionBatch(List.of(new Segment(0, 3, 0, new int[] {1})));
        Call f32 = call(batch, 3, pools(2, 16, 2, 64, KvCacheDtype.F32), 8, H100_TARGET);
        assertThat(f32.launches()).extracting(AttentionKernels.Launch::kernel).containsExactly("kv_store_f32", "attention_f32");
        assertThat(f32.launches().get(1).config()).isEqualTo(new LaunchConfig(Dim3.of(8, 3), Dim3.of(128), 2688));
        long[] generic = slots(f32.launches().get(1));
        assertThat(generic).hasSize(14);
        assertThat(generic[4]).isEqualTo(f32.buffers().positions().address());
        assertThat(generic[9]).as("head_dim").isEqualTo(64);
        assertThat(generic[11]).as("group").isEqualTo(4);
        assertThat(f32(generic[13])).isEqualTo(0.125f);
        Call odd = call(batch, 3, pools(2, 16, 2, 6, KvCacheDtype.BF16), 6, H100_TARGET);
        assertThat(odd.launches()).extracting(AttentionKernels.Launch::kernel).containsExactly("kv_store_bf16", "attention_bf16");
    }

    @Test
    void fp8CachesTakeTheE4m3TensorCoreKernelsWithTheLayersScales() {
        assertThat(pools(4, 16, 2, 128, KvCacheDtype.FP8_E4M3).tiled()).isTrue();
        long bytes = 300L * 16 * 8 * 128;  // one byte per element
        var pools = new AttentionKernels.Pools(buffer(bytes), buffer(bytes), 300L * 16, 8, 128, 16, KvCacheDtype.FP8_E4M3,
                0.5f, 4f);
        AttentionBatch batch = new AttentionBatch(List.of(new Segment(0, 100, 0, IntStream.range(0, 7).toArray()),
                new Segment(100, 1, 4000, IntStream.range(7, 258).toArray())));
        Call c = call(batch, 101, pools, 32, H100_TARGET);
        assertThat(c.launches()).extracting(AttentionKernels.Launch::kernel).containsExactly("kv_store_e4m3",
                "attention_prefill_d128_e4m3", "attention_decode_d128_e4m3", "attention_reduce");
        long[] store = slots(c.launches().get(0));
        assertThat(store).hasSize(9);
        assertThat(f32(store[7])).as("k_scale").isEqualTo(0.5f);
        assertThat(f32(store[8])).as("v_scale").isEqualTo(4f);
        // the same grids and shared memory as BF16: the stages hold decoded BF16
        assertThat(c.launches().get(1).config()).isEqualTo(new LaunchConfig(Dim3.of(32, 2), Dim3.of(128), 87040));
        long[] prefill = slots(c.launches().get(1));
        assertThat(prefill).hasSize(12);
        assertThat(f32(prefill[10])).as("softmax scale x k_scale").isEqualTo(0.125f * 0.5f);
        assertThat(f32(prefill[11])).as("v_scale").isEqualTo(4f);
        long[] decode = slots(c.launches().get(2));
        assertThat(decode).hasSize(14);
        assertThat(decode[6]).isEqualTo(c.partials().o().address());
        assertThat(f32(decode[12])).isEqualTo(0.125f * 0.5f);
        assertThat(f32(decode[13])).isEqualTo(4f);

        Call odd = call(new AttentionBatch(List.of(new Segment(0, 3, 0, new int[] {1}))), 3,
                pools(2, 16, 2, 6, KvCacheDtype.FP8_E4M3), 6, H100_TARGET);
        assertThat(odd.launches()).extracting(AttentionKernels.Launch::kernel).containsExactly("kv_store_e4m3", "attention_e4m3");
        long[] generic = slots(odd.launches().get(1));
        assertThat(generic).hasSize(15);
        assertThat(f32(generic[13])).isEqualTo(0.125f);
        assertThat(f32(generic[14])).isEqualTo(1f);
    }

    @Test
    void kvCacheScalesMustBeFinitePositiveAndOnePerLayer() {
        assertThatThrownBy(() -> new AttentionKernels.Pools(buffer(64), buffer(64), 4, 1, 16, 4, KvCacheDtype.FP8_E4M3, 0f, 1f))
                .hasMessageContaining("finite and positive");
        assertThatThrownBy(() -> new KvCacheScales(new float[] {1f, Float.NaN}, new float[] {1f, 1f}))
                .hasMessageContaining("layer 1");
        assertThatThrownBy(() -> new KvCacheScales(new float[] {1f}, new float[] {1f, 1f})).hasMessageContaining("1 key scales");
        assertThat(KvCacheScales.ones(3).value(2)).isEqualTo(1f);
        assertThat(KvCacheDtype.parse("fp8")).isEqualTo(KvCacheDtype.FP8_E4M3);
        assertThat(KvCacheDtype.parse("f32")).isEqualTo(KvCacheDtype.F32);
        for (KvCacheDtype dtype : KvCacheDtype.values()) assertThat(KvCacheDtype.parse(dtype.cliName())).isEqualTo(dtype);
        assertThatThrownBy(() -> KvCacheDtype.parse("fp16")).hasMessageContaining("bf16, fp8 or f32, not 'fp16'");
    }

    @Test
    void rejectsShapesTheKernelsWouldMisread() {
        AttentionBatch batch = new AttentionBatch(List.of(new Segment(0, 3, 0, new int[] {1})));
        var pools = pools(2, 16, 2, 64, KvCacheDtype.BF16);
        AttentionPlan plan = AttentionKernels.plan(batch, 3, pools, 8, H100_TARGET);
        var buffers = AttentionKernels.PlanBuffers.of(plan, buffer(plan.packed().length * 4L));
        assertThatThrownBy(() -> AttentionKernels.launches(plan, buffers, pools, activation(3, 7 * 64), activation(3, 128),
                activation(3, 128), activation(3, 7 * 64), null, 1f)).hasMessageContaining("kv heads");
        assertThatThrownBy(() -> AttentionKernels.launches(plan, buffers, pools, activation(3, 512), activation(3, 64),
                activation(3, 64), activation(3, 512), null, 1f)).hasMessageContaining("width");
        var wide = pools(2, 4, 1, 512, KvCacheDtype.F32);
        AttentionPlan widePlan = AttentionKernels.plan(batch, 3, wide, 1, H100_TARGET);
        var wideBuffers = AttentionKernels.PlanBuffers.of(widePlan, buffer(widePlan.packed().length * 4L));
        assertThatThrownBy(() -> AttentionKernels.launches(widePlan, wideBuffers, wide, activation(3, 512), activation(3, 512),
                activation(3, 512), activation(3, 512), null, 1f)).hasMessageContaining("head_dim");
        var short16 = new AttentionKernels.Pools(buffer(100), buffer(100), 32, 2, 64, 16, KvCacheDtype.BF16);
        assertThatThrownBy(() -> AttentionKernels.launches(plan, buffers, short16, activation(3, 512), activation(3, 128),
                activation(3, 128), activation(3, 512), null, 1f)).hasMessageContaining("key pool");
        assertThatThrownBy(() -> AttentionKernels.PlanBuffers.of(plan, buffer(4))).hasMessageContaining("attention plan");
    }
}
