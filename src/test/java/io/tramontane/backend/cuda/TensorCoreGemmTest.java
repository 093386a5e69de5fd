package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.cuda.TensorCoreGemm.Input;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.DeviceInfo;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.TensorMap;
import io.tramontane.cuda.TiledTensorMap;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** TensorCoreGemm's dispatch, grids, tensor-map parameters and kernel arguments, up to the FFM boundary (no GPU). */
class TensorCoreGemmTest {
    private static final int H100_OPTIN_SHARED = 232448;
    private final Arena arena = Arena.ofConfined();
    private long nextAddress = 0x100000;

    @AfterEach
    void close() {
        arena.close();
    }

    private DeviceBuffer buffer(long bytes) {
        DeviceBuffer b = new DeviceBuffer(nextAddress, bytes);
        nextAddress += (bytes + 511) / 256 * 256;
        return b;
    }

    private CudaWeight weight(WeightFormat format, long rows, long cols, float activationScale) {
        long stride = format.stride(cols);
        return new CudaWeight(buffer(rows * stride * format.bytes), format, rows, cols, stride, 0.5f, activationScale);
    }

    private static DeviceInfo device(int major, int minor, int optinShared) {
        return new DeviceInfo(0, "test", major, minor, 132, 80L << 30, optinShared, 2_619_000, 5120, 50 << 20);
    }

    /** An "encoded" map: its spec and 128 bytes of {@code fill}. */
    private TensorMap map(TiledTensorMap spec, int fill) {
        return new TensorMap(spec, arena.allocate(TensorMap.BYTES).fill((byte) fill));
    }

    @Test
    void onlyComputeCapability90WithEnoughSharedMemoryGetsTheKernel() {
        assertThat(TensorCoreGemm.supports(device(9, 0, H100_OPTIN_SHARED))).isTrue();
        assertThat(TensorCoreGemm.supports(device(10, 0, H100_OPTIN_SHARED))).isFalse();  // sm_100: no wgmma
        assertThat(TensorCoreGemm.supports(device(8, 9, 101376))).isFalse();
        assertThat(TensorCoreGemm.supports(device(9, 0, 100_000))).isFalse();
        assertThat(TensorCoreGemm.SHARED_BYTES).isEqualTo(6 * 32768 + 96 + 1024).isLessThanOrEqualTo(H100_OPTIN_SHARED);
    }

    @Test
    void servesPrefillSizedBf16AndFp8Linears() {
        CudaWeight bf16 = weight(WeightFormat.BF16, 64, 64, Float.NaN), f32 = weight(WeightFormat.F32, 64, 64, Float.NaN);
        assertThat(TensorCoreGemm.serves(bf16, LinearKernels.GEMV_MAX_TOKENS)).isFalse();
        assertThat(TensorCoreGemm.serves(bf16, LinearKernels.GEMV_MAX_TOKENS + 1)).isTrue();
        assertThat(TensorCoreGemm.serves(weight(WeightFormat.E4M3, 64, 64, Float.NaN), 2048)).isTrue();
        assertThat(TensorCoreGemm.serves(f32, 2048)).isFalse();
        assertThat(Input.of(weight(WeightFormat.E4M3, 64, 64, 0.01f))).isEqualTo(Input.E4M3_STATIC);
        assertThat(Input.of(weight(WeightFormat.E4M3, 64, 64, Float.NaN))).isEqualTo(Input.E4M3_PER_TOKEN);
        assertThat(Input.of(bf16)).isEqualTo(Input.BF16);
    }

    @Test
    void oneCtaPerTileOfOneHundredTwentyEightSquare() {
        LaunchConfig devstral = TensorCoreGemm.config(2048, 5120);
        assertThat(devstral.grid()).isEqualTo(Dim3.of(16, 40));
        assertThat(devstral.block()).isEqualTo(Dim3.of(384));
        assertThat(devstral.sharedBytes()).isEqualTo(TensorCoreGemm.SHARED_BYTES);
        assertThat(TensorCoreGemm.config(9, 257).grid()).isEqualTo(Dim3.of(1, 3));
        assertThatThrownBy(() -> TensorCoreGemm.config(0, 64)).hasMessageContaining("tensor-core linear shape must be positive: 0");
        assertThatThrownBy(() -> TensorCoreGemm.config(64, 128 * 65536)).hasMessageContaining("column tiles 65536 exceeds grid limit");

        assertThat(TensorCoreGemm.inputConfig(300, 4096).grid()).isEqualTo(Dim3.of(300));
        assertThat(TensorCoreGemm.inputConfig(70000, 33).grid()).isEqualTo(Dim3.of(70000));  // grid.x: no 65535 limit
        assertThat(TensorCoreGemm.inputConfig(300, 4096).block()).isEqualTo(Dim3.of(TensorCoreGemm.INPUT_THREADS));
        assertThat(TensorCoreGemm.inputConfig(300, 4096).sharedBytes()).isEqualTo(32);  // a row maximum per warp
    }

    @Test
    void tensorMapsReadOneSwizzleRowOfKPerBox() {
        TiledTensorMap w = TensorCoreGemm.weightSpec(weight(WeightFormat.BF16, 300, 70, Float.NaN));
        assertThat(w.type()).isEqualTo(TiledTensorMap.DataType.BFLOAT16);
        assertThat(w.globalDims()).containsExactly(70, 300);
        assertThat(w.globalStrides()).containsExactly(144);  // 72 padded elements
        assertThat(w.box()).containsExactly(64, 128);
        assertThat(w.swizzle()).isEqualTo(TiledTensorMap.Swizzle.B128);

        TiledTensorMap fp8 = TensorCoreGemm.weightSpec(weight(WeightFormat.E4M3, 257, 33, Float.NaN));
        assertThat(fp8.type()).isEqualTo(TiledTensorMap.DataType.UINT8);
        assertThat(fp8.globalDims()).containsExactly(33, 257);
        assertThat(fp8.globalStrides()).containsExactly(48);
        assertThat(fp8.box()).containsExactly(128, 128);

        TiledTensorMap x = TensorCoreGemm.activationSpec(Input.E4M3_PER_TOKEN, buffer(9 * 48), 9, 33, 48);
        assertThat(x.globalDims()).containsExactly(33, 9);
        assertThat(x.box()).containsExactly(128, 128);
        assertThatThrownBy(() -> TensorCoreGemm.weightSpec(weight(WeightFormat.F32, 4, 4, Float.NaN)))
                .hasMessageContaining("no tensor-core GEMM for F32");
    }

    @Test
    void gemmArgumentsAreTwoMapsByValueThenTheScalars() {
        CudaWeight w = weight(WeightFormat.E4M3, 257, 1000, Float.NaN);
        DeviceBuffer converted = buffer(130 * w.stride()), y = buffer(130 * 257 * 4L), scales = buffer(130 * 4);
        TensorMap xMap = map(TensorCoreGemm.activationSpec(Input.E4M3_PER_TOKEN, converted, 130, 1000, w.stride()), 1);
        TensorMap wMap = map(TensorCoreGemm.weightSpec(w), 2);
        KernelArgs args = TensorCoreGemm.arguments(new KernelArgs(arena, 8), xMap, wMap, y, scales, 130, w, 0.25f);
        assertThat(args.count()).isEqualTo(8);
        assertThat(args.array().getAtIndex(ADDRESS, 0).reinterpret(TensorMap.BYTES).toArray(JAVA_BYTE)).containsOnly((byte) 1);
        assertThat(args.array().getAtIndex(ADDRESS, 1).reinterpret(TensorMap.BYTES).toArray(JAVA_BYTE)).containsOnly((byte) 2);
        assertThat(slot(args, 2).get(JAVA_LONG, 0)).isEqualTo(y.address());
        assertThat(slot(args, 3).get(JAVA_LONG, 0)).isEqualTo(scales.address());
        assertThat(slot(args, 4).get(JAVA_INT, 0)).isEqualTo(130);
        assertThat(slot(args, 5).get(JAVA_INT, 0)).isEqualTo(257);
        assertThat(slot(args, 6).get(JAVA_INT, 0)).isEqualTo(1000);
        assertThat(slot(args, 7).get(JAVA_FLOAT, 0)).isEqualTo(0.25f);

        KernelArgs noScales = TensorCoreGemm.arguments(new KernelArgs(arena, 8), xMap, wMap, y, null, 130, w, 1f);
        assertThat(slot(noScales, 3).get(JAVA_LONG, 0)).isZero();

        assertThatThrownBy(() -> TensorCoreGemm.arguments(new KernelArgs(arena, 8), xMap, wMap, buffer(4), null, 130, w, 1f))
                .hasMessageContaining("tensor-core linear output has 4 bytes, expected 133640");
        assertThatThrownBy(() -> TensorCoreGemm.arguments(new KernelArgs(arena, 8), xMap, wMap, buffer(129 * 257 * 4L), null, 129,
                w, 1f))
                .hasMessageContaining("tensor maps over [130, 1000]");
        assertThatThrownBy(() -> TensorCoreGemm.arguments(new KernelArgs(arena, 8), xMap, wMap, y, null, 130, w, Float.NaN))
                .hasMessageContaining("scale must be finite");
    }

    @Test
    void conversionArgumentsFollowEachKernelsParameters() {
        CudaWeight bf16 = weight(WeightFormat.BF16, 64, 70, Float.NaN);
        DeviceBuffer x = buffer(9 * 70 * 4L), out = buffer(9 * 72 * 2L);
        KernelArgs a = TensorCoreGemm.inputArguments(new KernelArgs(arena, 6), Input.BF16, x, out, null, 9, 70, bf16);
        assertThat(a.count()).isEqualTo(4);
        assertThat(slot(a, 2).get(JAVA_INT, 0)).isEqualTo(70);
        assertThat(slot(a, 3).get(JAVA_LONG, 0)).isEqualTo(72);

        CudaWeight w8a8 = weight(WeightFormat.E4M3, 64, 70, 0.05f);
        DeviceBuffer bytes = buffer(9 * 80L);
        KernelArgs s = TensorCoreGemm.inputArguments(new KernelArgs(arena, 6), Input.E4M3_STATIC, x, bytes, null, 9, 70, w8a8);
        assertThat(s.count()).isEqualTo(5);
        assertThat(slot(s, 2).get(JAVA_INT, 0)).isEqualTo(70);
        assertThat(slot(s, 3).get(JAVA_LONG, 0)).isEqualTo(80);
        assertThat(slot(s, 4).get(JAVA_FLOAT, 0)).isEqualTo(0.05f);

        CudaWeight dynamic = weight(WeightFormat.E4M3, 64, 70, Float.NaN);
        DeviceBuffer scales = buffer(9 * 4);
        KernelArgs r = TensorCoreGemm.inputArguments(new KernelArgs(arena, 6), Input.E4M3_PER_TOKEN, x, bytes, scales, 9, 70, dynamic);
        assertThat(r.count()).isEqualTo(5);
        assertThat(slot(r, 2).get(JAVA_LONG, 0)).isEqualTo(scales.address());
        assertThat(slot(r, 3).get(JAVA_INT, 0)).isEqualTo(70);
        assertThat(slot(r, 4).get(JAVA_LONG, 0)).isEqualTo(80);

        assertThatThrownBy(() -> TensorCoreGemm.inputArguments(new KernelArgs(arena, 6), Input.BF16, x, buffer(10), null, 9, 70, bf16))
                .hasMessageContaining("converted input has 10 bytes, expected 1296");
        assertThatThrownBy(() -> TensorCoreGemm.inputArguments(new KernelArgs(arena, 6), Input.E4M3_PER_TOKEN, x, bytes, buffer(8), 9,
                70, dynamic)).hasMessageContaining("row scales has 8 bytes, expected 36");
        CudaWeight negative = weight(WeightFormat.E4M3, 64, 70, -1f);
        assertThatThrownBy(() -> TensorCoreGemm.inputArguments(new KernelArgs(arena, 6), Input.E4M3_STATIC, x, bytes, null, 9, 70,
                negative)).hasMessageContaining("static activation scale must be positive");
    }

    /** The Java constants are the kernel's: block, tiles, stages and the shared-memory formula of gemm_sm90_core.cuh. */
    @Test
    void constantsMatchTheKernelSource() throws IOException {
        String core = Files.readString(CudaToolkit.repositoryRoot().resolve("cuda-kernels/gemm_sm90_core.cuh"));
        assertThat(constant(core, "BLOCK_M")).isEqualTo(TensorCoreGemm.BLOCK_M);
        assertThat(constant(core, "BLOCK_N")).isEqualTo(TensorCoreGemm.BLOCK_N);
        assertThat(constant(core, "BLOCK_K_BYTES")).isEqualTo(TensorCoreGemm.BLOCK_K_BYTES);
        assertThat(constant(core, "STAGES")).isEqualTo(TensorCoreGemm.STAGES);
        assertThat(constant(core, "WARPGROUP") * (1 + constant(core, "CONSUMERS"))).isEqualTo(TensorCoreGemm.THREADS);
        assertThat(core).contains("return STAGES * STAGE_BYTES + 2 * STAGES * 8 + SWIZZLE_ATOM_BYTES;");
        assertThat(constant(core, "SWIZZLE_ATOM_BYTES")).isEqualTo(1024);
    }

    private static int constant(String source, String name) {
        Matcher m = Pattern.compile("\\b" + name + " = (\\d+)").matcher(source);
        assertThat(m.find()).as("constant %s in gemm_sm90_core.cuh", name).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static MemorySegment slot(KernelArgs args, int i) {
        return args.array().getAtIndex(ADDRESS, i).reinterpret(8);
    }
}
