package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.Activation;
import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.KvCache;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.backend.cuda.AttentionChecks.AttentionShape;
import io.tramontane.backend.cuda.AttentionChecks.Scenario;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.weights.Floats;
import io.tramontane.weights.KvCacheScales;
import io.tramontane.weights.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CudaBackend's attention without a GPU: the launches AttentionKernels builds (plan, grids, shared memory, the
 * parameters as marshalled for cuLaunchKernel) run by {@link KernelEmulator} on the kernel bodies of
 * attention_core.cuh, against CpuBackend with the GPU check's bounds ({@link AttentionChecks.Errors}). The emulated
 * warp implements ldmatrix, mma.sync and cp.async from the PTX ISA, so fragment layouts, the block table, GQA
 * mapping, causal masking, chunked prefill and the split decode are all exercised. Skipped, visibly, without g++.
 */
class AttentionEmulationTest {
    /** An H100's 132 SMs, as the backend would plan for it: small batches split their decode contexts. */
    private static final int H100_TARGET = 132 * AttentionKernels.DECODE_CTAS_PER_SM;

    @BeforeEach
    void needsGxx() {
        EmulatorBuild.assumeBuilt(KernelEmulator.binary(), "AttentionEmulationTest");
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(new AttentionShape(8, 2, 64, 16, KvCacheDtype.BF16), H100_TARGET),     // prefill d64, G4
                Arguments.of(new AttentionShape(8, 8, 128, 1, KvCacheDtype.BF16), H100_TARGET),     // d128, G1, block 1
                Arguments.of(new AttentionShape(16, 2, 128, 16, KvCacheDtype.BF16), H100_TARGET),   // G8
                Arguments.of(new AttentionShape(24, 1, 64, 5, KvCacheDtype.BF16), H100_TARGET),     // two 16-head slices
                Arguments.of(new AttentionShape(8, 2, 128, 16, KvCacheDtype.BF16), 1),              // nothing split
                Arguments.of(new AttentionShape(6, 2, 6, 3, KvCacheDtype.BF16), H100_TARGET),       // generic BF16
                Arguments.of(new AttentionShape(8, 2, 64, 16, KvCacheDtype.F32), H100_TARGET),      // generic FP32
                Arguments.of(new AttentionShape(8, 2, 64, 16, KvCacheDtype.FP8_E4M3), H100_TARGET), // e4m3 tiles d64
                Arguments.of(new AttentionShape(16, 2, 128, 16, KvCacheDtype.FP8_E4M3), H100_TARGET), // d128, G8
                Arguments.of(new AttentionShape(24, 1, 64, 5, KvCacheDtype.FP8_E4M3), 1),           // slices, unsplit
                Arguments.of(new AttentionShape(6, 2, 6, 3, KvCacheDtype.FP8_E4M3), H100_TARGET));  // generic e4m3
    }

    @ParameterizedTest(name = "{0}, target {1} CTAs")
    @MethodSource("cases")
    void mixedScenarioMatchesTheCpu(AttentionShape s, int targetCtas, @TempDir Path work) throws Exception {
        CheckResult result = emulate(s, targetCtas, work, UnaryOperator.identity());
        System.err.printf("AttentionEmulationTest: %s target %d: max %.2e, %s%n", s, targetCtas, result.maxRelativeError(),
                result.detail());
        assertThat(result.passed()).as("%s", result).isTrue();
    }

    /**
     * The e4m3 attention kernels on an emulated device whose e4m3 decode drops the mantissa (the emulator's
     * {@code _coarse} variants; kv_store still stores exactly): the FP8 bounds must catch it, on the tensor-core and
     * the generic kernels.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenCases")
    void aBrokenE4m3DecodeFailsTheFp8Bounds(AttentionShape s, @TempDir Path work) throws Exception {
        CheckResult result = emulate(s, H100_TARGET, work, launch -> launch.kernel().startsWith("attention_")
                && launch.kernel().endsWith("_e4m3") ? new AttentionKernels.Launch(launch.kernel() + "_coarse", launch.config(),
                launch.arguments()) : launch);
        System.err.printf("AttentionEmulationTest: broken e4m3 decode, %s: max %.2e, %s%n", s, result.maxRelativeError(),
                result.detail());
        assertThat(result.passed()).as("%s", result).isFalse();
    }

    static Stream<Arguments> brokenCases() {
        return Stream.of(Arguments.of(new AttentionShape(8, 2, 64, 16, KvCacheDtype.FP8_E4M3)),
                Arguments.of(new AttentionShape(6, 2, 6, 3, KvCacheDtype.FP8_E4M3)));
    }

    /**
     * The mixed scenario's launches (each passed through {@code substitute}) emulated and compared with the CPU; an FP8
     * cache with the GPU check's layer-1 scales.
     */
    private static CheckResult emulate(AttentionShape s, int targetCtas, Path work,
                                       UnaryOperator<AttentionKernels.Launch> substitute) throws Exception {
        long seed = 20261125L + s.toString().hashCode() + targetCtas;
        SplittableRandom random = new SplittableRandom(seed);
        Scenario scenario = Scenario.mixed(s.blockSize(), random);
        KernelEmulator device = new KernelEmulator();
        long poolRows = (long) scenario.blocks() * s.blockSize();
        long poolBytes = poolRows * s.kvHeads() * s.headDim() * s.dtype().bytes;
        KvCacheScales scales = AttentionChecks.checkScales(2);
        var pools = new AttentionKernels.Pools(device.allocate(poolBytes), device.allocate(poolBytes), poolRows, s.kvHeads(),
                s.headDim(), s.blockSize(), s.dtype(), scales.key(1), scales.value(1));
        int qCols = s.heads() * s.headDim(), kvCols = s.kvHeads() * s.headDim();
        float scale = (float) (1 / Math.sqrt(s.headDim()));
        List<DeviceBuffer> outputs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>(), expectedStored = new ArrayList<>();
        boolean split = false, fp8 = s.dtype() == KvCacheDtype.FP8_E4M3;
        try (CpuBackend cpu = new CpuBackend(new CpuBackend.Options(2, true));
             KvCache cache = cpu.allocateKvCache(1, scenario.blocks(), s.blockSize(), s.kvHeads(), s.headDim());
             KvCache storedCache = cpu.allocateKvCache(1, scenario.blocks(), s.blockSize(), s.kvHeads(), s.headDim())) {
            for (AttentionBatch step : scenario.steps()) {
                int n = step.tokens();
                float[] q = RandomTensors.floats(random, n * qCols, 1), k = RandomTensors.floats(random, n * kvCols, 1),
                        v = RandomTensors.floats(random, n * kvCols, 1);
                CudaActivation out = device.activation(n, qCols, null);
                AttentionPlan plan = AttentionKernels.plan(step, n, pools, s.heads(), targetCtas);
                var buffers = AttentionKernels.PlanBuffers.of(plan, device.ints(plan.packed()));
                var partials = plan.partialSlots() == 0 ? null : new AttentionKernels.Partials(
                        device.allocate(4L * plan.partialSlots() * qCols), device.allocate(8L * plan.partialSlots() * s.heads()));
                split |= plan.reduceItems() > 0;
                for (var launch : AttentionKernels.launches(plan, buffers, pools, device.activation(n, qCols, q),
                        device.activation(n, kvCols, k), device.activation(n, kvCols, v), out, partials, scale)) {
                    device.launch(substitute.apply(launch));
                }
                outputs.add(out.data());
                Activation cpuOut = cpu.allocate(n, qCols);
                cpu.attention(matrix(cpu, q, n, qCols), matrix(cpu, k, n, kvCols), matrix(cpu, v, n, kvCols), cache, 0, step,
                        scale, cpuOut);
                expected.add(BackendChecks.read(cpu, cpuOut));
                if (fp8) {  // the values the cache holds, as AttentionChecks judges the kernel
                    Activation storedOut = cpu.allocate(n, qCols);
                    cpu.attention(matrix(cpu, q, n, qCols), matrix(cpu, AttentionChecks.storedE4m3(k, scales.key(1)), n, kvCols),
                            matrix(cpu, AttentionChecks.storedE4m3(v, scales.value(1)), n, kvCols), storedCache, 0, step, scale,
                            storedOut);
                    expectedStored.add(BackendChecks.read(cpu, storedOut));
                }
            }
        }
        assertThat(split).as("a context split and reduced").isEqualTo(targetCtas == H100_TARGET && s.dtype() != KvCacheDtype.F32
                && (s.headDim() == 64 || s.headDim() == 128));
        List<float[]> actual = device.run(work, outputs);
        AttentionChecks.Errors errors = new AttentionChecks.Errors(), cost = new AttentionChecks.Errors();
        for (int i = 0; i < actual.size(); i++) {
            String failure = errors.add(actual.get(i), (fp8 ? expectedStored : expected).get(i), s.headDim());
            assertThat(failure).as("step %d", i + 1).isNull();
            cost.add(actual.get(i), expected.get(i), s.headDim());
        }
        return fp8 ? AttentionChecks.fp8Result("attention (emulated)", s.toString(), seed, errors, cost, Double.NaN)
                : errors.result("attention (emulated)", s.toString(), seed, s.dtype(), Double.NaN, "");
    }

    /**
     * kv_store_e4m3, launched as AttentionKernels marshals it, stores e4m3(x / scale) bit for bit as the CPU's
     * {@link Floats#floatToE4m3} encodes it: ties to even (normal and subnormal), saturation to +-448, -0, NaN, and only
     * the slots the block table names.
     */
    @Test
    void kvStoreE4m3EncodesLikeTheCpu(@TempDir Path work) throws Exception {
        float[] edges = {0f, -0f, 1.0625f, 1.1875f, -1.1875f, 500f, -1e6f, 449f, 464f, 0x1p-10f, 3 * 0x1p-10f, 0x1p-7f,
                Float.NaN, 0.3f, -0.0171f, 100.5f, Float.MIN_VALUE, 239.99f, 0x1p-11f, 3 * 0x1p-11f, -232f};
        int width = 64, rows = 3;
        SplittableRandom random = new SplittableRandom(7);
        float[] k = RandomTensors.floats(random, rows * width, 300), v = RandomTensors.floats(random, rows * width, 3);
        System.arraycopy(edges, 0, k, 5, edges.length);
        System.arraycopy(edges, 0, v, 70, edges.length);
        KernelEmulator device = new KernelEmulator();
        long poolBytes = 4L * 16 * width;
        var pools = new AttentionKernels.Pools(device.allocate(poolBytes), device.allocate(poolBytes), 4 * 16, 1, width, 16,
                KvCacheDtype.FP8_E4M3, 0.5f, 1 / 3f);
        AttentionBatch step = new AttentionBatch(List.of(new AttentionBatch.Segment(0, rows, 0, new int[] {2})));
        AttentionPlan plan = AttentionKernels.plan(step, rows, pools, 1, 1);
        var buffers = AttentionKernels.PlanBuffers.of(plan, device.ints(plan.packed()));
        var store = AttentionKernels.launches(plan, buffers, pools, device.activation(rows, width, new float[rows * width]),
                device.activation(rows, width, k), device.activation(rows, width, v), device.activation(rows, width, null),
                null, 0.125f).getFirst();
        assertThat(store.kernel()).isEqualTo("kv_store_e4m3");
        device.launch(store);
        List<float[]> pooled = device.run(work, List.of(pools.keys(), pools.values()));
        byte[] keys = bytes(pooled.get(0)), values = bytes(pooled.get(1));
        for (int i = 0; i < poolBytes; i++) {
            int slot = i / width - 2 * 16;  // block 2 holds the three rows at its slots 0..2
            boolean stored = slot >= 0 && slot < rows;
            byte expectedKey = stored ? Floats.floatToE4m3(k[slot * width + i % width] / 0.5f) : (byte) 0xff;
            byte expectedValue = stored ? Floats.floatToE4m3(v[slot * width + i % width] / (1 / 3f)) : (byte) 0xff;
            assertThat(keys[i]).as("key byte %d", i).isEqualTo(expectedKey);
            assertThat(values[i]).as("value byte %d", i).isEqualTo(expectedValue);
        }
    }

    private static byte[] bytes(float[] dumped) {
        ByteBuffer b = ByteBuffer.allocate(dumped.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : dumped) b.putInt(Float.floatToRawIntBits(f));
        return b.array();
    }

    /** {@code values} as a CPU activation. */
    private static Activation matrix(CpuBackend cpu, float[] values, int rows, int cols) {
        Activation a = cpu.allocate(rows, cols);
        cpu.embed(cpu.weight(Tensor.ofFloats("input", new long[] {rows, cols}, values)), IntStream.range(0, rows).toArray(), a);
        return a;
    }
}
