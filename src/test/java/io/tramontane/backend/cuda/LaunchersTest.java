package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The launchers' grids, argument checks and parameter marshalling, up to the FFM boundary (no GPU needed). */
class LaunchersTest {
    private final Arena arena = Arena.ofConfined();
    private long nextAddress = 0x10000;

    @AfterEach
    void close() {
        arena.close();
    }

    private DeviceBuffer floats(long n) {
        return buffer(n * 4);
    }

    private DeviceBuffer buffer(long bytes) {
        DeviceBuffer b = new DeviceBuffer(nextAddress, bytes);
        nextAddress += bytes + 256;
        return b;
    }

    private KernelArgs args() {
        return new KernelArgs(arena, 32);
    }

    private static MemorySegment slot(KernelArgs args, int i) {
        return args.array().getAtIndex(ADDRESS, i).reinterpret(8);
    }

    private static CudaWeight weight(WeightFormat format, long rows, long cols, DeviceBuffer data) {
        return new CudaWeight(data, format, rows, cols, format.stride(cols), 1f, Float.NaN);
    }

    @Test
    void weightRowsArePaddedToSixteenBytes() {
        assertThat(WeightFormat.F32.stride(33)).isEqualTo(36);
        assertThat(WeightFormat.BF16.stride(33)).isEqualTo(40);
        assertThat(WeightFormat.E4M3.stride(33)).isEqualTo(48);
        assertThat(WeightFormat.BF16.stride(4096)).isEqualTo(4096);
        assertThat(WeightFormat.E4M3.stride(1)).isEqualTo(16);
    }

    @Test
    void linearPicksGemvForDecodeAndTilesForPrefill() {
        assertThat(LinearKernels.name(WeightFormat.BF16, 1)).isEqualTo("linear_gemv_bf16");
        assertThat(LinearKernels.name(WeightFormat.E4M3, 8)).isEqualTo("linear_gemv_e4m3");
        assertThat(LinearKernels.name(WeightFormat.F32, 9)).isEqualTo("linear_gemm_f32");
        // 132 SMs want 2112 streaming warps (2 resident blocks of 8): narrow layers split each row over up to 8 warps,
        // wide ones use one; each block walks an equal share of the units of 32 / parts rows
        int shared = GemvLayout.PRODUCTION.sharedBytes();
        assertThat(shared).isEqualTo(66560);
        assertThat(GemvLayout.PRODUCTION.parts(129, 132)).isEqualTo(8);
        assertThat(GemvLayout.PRODUCTION.parts(2400, 132)).isEqualTo(4);
        assertThat(GemvLayout.PRODUCTION.parts(5120, 132)).isEqualTo(2);
        assertThat(GemvLayout.PRODUCTION.parts(32768, 132)).isEqualTo(1);
        assertThat(LinearKernels.config(3, 129, 132)).isEqualTo(new LaunchConfig(Dim3.of(33, 1), Dim3.of(256), shared));
        assertThat(LinearKernels.config(8, 4, 132)).isEqualTo(new LaunchConfig(Dim3.of(1, 2), Dim3.of(256), shared));
        assertThat(LinearKernels.config(1, 1024, 132)).isEqualTo(new LaunchConfig(Dim3.of(256, 1), Dim3.of(256), shared));
        assertThat(LinearKernels.config(1, 2001, 132)).isEqualTo(new LaunchConfig(Dim3.of(251, 1), Dim3.of(256), shared));
        // 1025 units of 32 rows over 264 slots: 4 each, so 257 blocks that finish together
        assertThat(LinearKernels.config(1, 32769, 132)).isEqualTo(new LaunchConfig(Dim3.of(257, 1), Dim3.of(256), shared));
        assertThat(LinearKernels.config(1, 32768, 1)).isEqualTo(new LaunchConfig(Dim3.of(2, 1), Dim3.of(256), shared));
        // a 2-stage ring of 2 rows a warp, 3 blocks per SM: 2049 units of 16 rows over 396 slots
        GemvLayout r2 = GemvLayout.ALTERNATIVES.getFirst();
        assertThat(r2.sharedBytes()).isEqualTo(33280);
        assertThat(r2.config(1, 32769, 132)).isEqualTo(new LaunchConfig(Dim3.of(342, 1), Dim3.of(256), 33280));
        assertThat(LinearKernels.config(130, 257, 132)).isEqualTo(new LaunchConfig(Dim3.of(5, 3), Dim3.of(256), 0));
    }

    @Test
    void linearMarshalsItsParametersInKernelOrder() {
        DeviceBuffer x = floats(3 * 33), y = floats(3 * 7);
        CudaWeight w = new CudaWeight(buffer(7 * 40 * 2), WeightFormat.BF16, 7, 33, 40, 0.5f, Float.NaN);
        KernelArgs args = LinearKernels.arguments(args(), x, w, y, 3, 0.25f, 132);
        assertThat(args.count()).isEqualTo(LinearKernels.GEMV_PARAMETERS).isEqualTo(17);
        assertThat(slot(args, 0).get(JAVA_LONG, 0)).isEqualTo(x.address());
        assertThat(slot(args, 1).get(JAVA_LONG, 0)).isEqualTo(40);  // stride
        assertThat(slot(args, 2).get(JAVA_INT, 0)).isEqualTo(3);    // m
        assertThat(slot(args, 3).get(JAVA_INT, 0)).isEqualTo(33);   // k
        assertThat(slot(args, 4).get(JAVA_INT, 0)).isEqualTo(8);    // the gemv's warps per row
        assertThat(slot(args, 5).get(JAVA_LONG, 0)).isEqualTo(w.data().address());
        assertThat(slot(args, 6).get(JAVA_LONG, 0)).isEqualTo(y.address());
        assertThat(slot(args, 7).get(JAVA_INT, 0)).isEqualTo(7);
        assertThat(slot(args, 8).get(JAVA_FLOAT, 0)).isEqualTo(0.25f);
        for (int absent = 9; absent < 17; absent += 4) assertThat(slot(args, absent + 2).get(JAVA_INT, 0)).isZero();  // no rows
        DeviceBuffer x9 = floats(9 * 33), y9 = floats(9 * 7);
        KernelArgs gemm = LinearKernels.arguments(args(), x9, w, y9, 9, 1f, 132);
        assertThat(gemm.count()).isEqualTo(8);
        assertThat(slot(gemm, 1).get(JAVA_LONG, 0)).isEqualTo(w.data().address());
        assertThat(slot(gemm, 2).get(JAVA_LONG, 0)).isEqualTo(40);
        assertThat(slot(gemm, 7).get(JAVA_FLOAT, 0)).isEqualTo(1f);
    }

    @Test
    void oneGemvServesWeightsThatShareTheirInput() {
        DeviceBuffer x = floats(2 * 33);
        CudaWeight q = new CudaWeight(buffer(6 * 40 * 2), WeightFormat.BF16, 6, 33, 40, 0.5f, Float.NaN);
        CudaWeight kv = new CudaWeight(buffer(3 * 40 * 2), WeightFormat.BF16, 3, 33, 40, 0.25f, Float.NaN);
        DeviceBuffer[] ys = {floats(2 * 6), floats(2 * 3), floats(2 * 3)};
        KernelArgs args = LinearKernels.gemvArguments(args(), x, new CudaWeight[] {q, kv, kv}, ys, new float[] {1, 2, 3}, 2,
                GemvLayout.PRODUCTION, 132);
        assertThat(slot(args, 10).get(JAVA_LONG, 0)).isEqualTo(ys[1].address());
        assertThat(slot(args, 15).get(JAVA_INT, 0)).isEqualTo(3);
        assertThat(slot(args, 16).get(JAVA_FLOAT, 0)).isEqualTo(3f);
        // units of 4 rows (8 warps a row): 2 for q, 1 each for k and v
        assertThat(GemvLayout.PRODUCTION.config(2, new int[] {6, 3, 3}, 132).grid()).isEqualTo(Dim3.of(4, 1));
        CudaWeight f32 = weight(WeightFormat.F32, 3, 33, floats(3 * 36));
        assertThatThrownBy(() -> LinearKernels.gemvArguments(args(), x, new CudaWeight[] {q, f32}, new DeviceBuffer[] {ys[0], ys[1]},
                new float[] {1, 1}, 2, GemvLayout.PRODUCTION, 132)).hasMessageContaining("one format, width and stride");
        assertThatThrownBy(() -> LinearKernels.gemvArguments(args(), x, new CudaWeight[] {q, kv, kv, kv},
                new DeviceBuffer[] {ys[0], ys[1], ys[2], ys[2]}, new float[] {1, 1, 1, 1}, 2, GemvLayout.PRODUCTION, 132))
                .hasMessageContaining("1 to 3 weights");
    }

    @Test
    void linearRejectsBuffersThatDoNotMatchTheShape() {
        CudaWeight w = weight(WeightFormat.F32, 7, 33, floats(7 * 36));
        assertThatThrownBy(() -> LinearKernels.arguments(args(), floats(3 * 32), w, floats(21), 3, 1f, 132))
                .hasMessageContaining("linear input");
        assertThatThrownBy(() -> LinearKernels.arguments(args(), floats(99), w, floats(20), 3, 1f, 132))
                .hasMessageContaining("linear output");
        CudaWeight unpadded = new CudaWeight(floats(7 * 33), WeightFormat.F32, 7, 33, 33, 1f, Float.NaN);
        assertThatThrownBy(() -> LinearKernels.arguments(args(), floats(99), unpadded, floats(21), 3, 1f, 132))
                .hasMessageContaining("16-byte");
        assertThatThrownBy(() -> LinearKernels.arguments(args(), floats(99), w, floats(21), 3, Float.NaN, 132))
                .hasMessageContaining("scale");
    }

    @Test
    void embeddingChecksTableTokensAndOutput() {
        CudaWeight table = weight(WeightFormat.E4M3, 100, 33, buffer(100 * 48));
        KernelArgs args = EmbeddingKernels.arguments(args(), table, buffer(5 * 4), 5, floats(5 * 33));
        assertThat(args.count()).isEqualTo(5);
        assertThat(slot(args, 1).get(JAVA_LONG, 0)).isEqualTo(48);
        assertThat(slot(args, 4).get(JAVA_INT, 0)).isEqualTo(33);
        assertThatThrownBy(() -> EmbeddingKernels.arguments(args(), table, buffer(4 * 4), 5, floats(5 * 33)))
                .hasMessageContaining("tokens");
        assertThat(EmbeddingKernels.name(WeightFormat.BF16)).isEqualTo("embed_bf16");
    }

    @Test
    void ropeNeedsAnEvenHeadDimDividingTheColumns() {
        KernelArgs args = RopeKernel.arguments(args(), floats(2 * 12), floats(2 * 3), floats(2 * 3), 2, 12, 6);
        assertThat(slot(args, 3).get(JAVA_INT, 0)).isEqualTo(12);
        assertThat(slot(args, 4).get(JAVA_INT, 0)).isEqualTo(6);
        assertThatThrownBy(() -> RopeKernel.arguments(args(), floats(2 * 10), floats(6), floats(6), 2, 10, 6))
                .hasMessageContaining("head_dim");
        assertThatThrownBy(() -> RopeKernel.arguments(args(), floats(2 * 12), floats(5), floats(6), 2, 12, 6))
                .hasMessageContaining("cos");
    }

    @Test
    void elementwiseOpsCheckCountsAndGridStride() {
        assertThat(ElementwiseKernels.config(10).grid()).isEqualTo(Dim3.of(1));
        assertThat(ElementwiseKernels.config(1L << 32).grid()).isEqualTo(Dim3.of(8192));
        KernelArgs args = ElementwiseKernels.pair(args(), floats(10), floats(10), 10);
        assertThat(slot(args, 2).get(JAVA_LONG, 0)).isEqualTo(10);
        assertThatThrownBy(() -> ElementwiseKernels.pair(args(), floats(10), floats(9), 10)).hasMessageContaining("second");
        assertThatThrownBy(() -> ElementwiseKernels.scaleRowsArguments(args(), floats(12), floats(2), 3, 4))
                .hasMessageContaining("row scales");
        assertThatThrownBy(() -> ElementwiseKernels.quantizeArguments(args(), floats(4), floats(4), 0f, 4))
                .hasMessageContaining("activation scale");
    }

    @Test
    void rowMovesCheckShapes() {
        CudaActivation src = activation(9, 16), dst = activation(5, 16);
        KernelArgs gather = RowKernels.gatherArguments(args(), src, buffer(5 * 4), 5, dst);
        assertThat(gather.count()).isEqualTo(5);
        assertThat(RowKernels.gatherConfig(5, 300)).isEqualTo(new LaunchConfig(Dim3.of(2, 5), Dim3.of(256), 0));
        assertThatThrownBy(() -> RowKernels.gatherArguments(args(), src, buffer(6 * 4), 6, dst)).hasMessageContaining("gather");
        assertThatThrownBy(() -> RowKernels.gatherConfig(70000, 4)).hasMessageContaining("grid limit");
    }

    @Test
    void columnMovesCheckShapesAndTheLayout() {
        assertThat(CollectiveKernels.config(3, 300)).isEqualTo(new LaunchConfig(Dim3.of(2, 3), Dim3.of(256), 0));
        KernelArgs pad = CollectiveKernels.padArguments(args(), floats(3 * 10), floats(3 * 11), 3, 10, 11);
        assertThat(pad.count()).isEqualTo(4);
        assertThat(slot(pad, 2).get(JAVA_INT, 0)).isEqualTo(10);
        assertThat(slot(pad, 3).get(JAVA_INT, 0)).isEqualTo(11);
        assertThatThrownBy(() -> CollectiveKernels.padArguments(args(), floats(30), floats(27), 3, 10, 9))
                .hasMessage("pad stride 9 below 10 columns");
        ColumnLayout layout = ColumnLayout.of(new int[] {10, 11});
        KernelArgs unpad = CollectiveKernels.unpadArguments(args(), floats(2 * 3 * 11), floats(3 * 21), layout, buffer(3 * 4), 3);
        assertThat(slot(unpad, 3).get(JAVA_INT, 0)).isEqualTo(2);
        assertThat(slot(unpad, 5).get(JAVA_INT, 0)).isEqualTo(11);
        assertThatThrownBy(() -> CollectiveKernels.unpadArguments(args(), floats(2 * 3 * 10), floats(3 * 21), layout, buffer(12), 3))
                .hasMessageContaining("gathered columns");
        assertThatThrownBy(() -> CollectiveKernels.unpadArguments(args(), floats(66), floats(63), layout, buffer(8), 3))
                .hasMessageContaining("column offsets");
    }

    private CudaActivation activation(int rows, int cols) {
        DeviceBuffer all = floats((long) rows * cols + 64);
        return new CudaActivation(all.slice(0, (long) rows * cols * 4), all, rows, cols);
    }
}
