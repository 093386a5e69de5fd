package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.KernelArgs;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** MoeKernels' grids, tile sizing, shape checks and parameters, CudaExpertRoutes' layout and CudaExperts' tables (no GPU). */
class MoeKernelsTest {
    private final Arena arena = Arena.ofConfined();
    private long nextAddress = 0x10000;

    @AfterEach
    void close() {
        arena.close();
    }

    private DeviceBuffer buffer(long bytes) {
        DeviceBuffer b = new DeviceBuffer(nextAddress, bytes);
        nextAddress += (bytes + 511) / 256 * 256;
        return b;
    }

    private CudaActivation activation(int rows, int cols) {
        DeviceBuffer data = buffer(4L * rows * cols);
        return new CudaActivation(data, data, rows, cols);
    }

    private CudaExpertRoutes routes(int tokens, int topK, int experts) {
        return CudaExpertRoutes.in(activation(1, CudaExpertRoutes.words(tokens, topK, experts)), tokens, topK, experts);
    }

    private CudaExperts experts(WeightFormat format, int count, int rows, int cols, float activationScale) {
        List<CudaWeight> weights = java.util.stream.IntStream.range(0, count).mapToObj(e -> new CudaWeight(
                buffer(rows * format.stride(cols) * format.bytes), format, rows, cols, format.stride(cols), 0.5f, activationScale))
                .toList();
        return new CudaExperts(weights, buffer(8L * count), buffer(4L * count), buffer(4L * count));
    }

    private long[] slots(MoeKernels.Launch launch) {
        KernelArgs args = new KernelArgs(arena, 16);
        launch.arguments().accept(args);
        assertThat(args.count()).as("parameters of %s", launch.kernel()).isEqualTo(launch.parameters());
        long[] slots = new long[args.count()];
        for (int i = 0; i < slots.length; i++) slots[i] = args.array().getAtIndex(ADDRESS, i).reinterpret(8).get(JAVA_LONG, 0);
        return slots;
    }

    @Test
    void everyKernelIsInTheFatbinForBothArchitecturesWithoutSpills() throws Exception {
        var report = MoeKernelsTest.class.getResourceAsStream("resource-usage.txt");
        if (report == null) System.err.println("SKIPPED: MoeKernelsTest: no ptxas report (the build had no nvcc)");
        assumeTrue(report != null, "no ptxas report: the build had no nvcc");
        String usage;
        try (report) {
            usage = new String(report.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        for (String kernel : MoeKernels.KERNELS.keySet()) {
            for (String arch : List.of("sm_90a", "sm_100a")) {
                String entry = "Compiling entry function '" + kernel + "' for '" + arch + "'";
                assertThat(usage).as("ptxas report").contains(entry);
                String properties = usage.substring(usage.indexOf(entry)).lines().skip(1).limit(2)
                        .filter(line -> line.contains("spill stores")).findFirst().orElseThrow();
                assertThat(properties).as("%s on %s", kernel, arch).contains(" 0 bytes spill stores");
            }
        }
    }

    @Test
    void routingLimitsNameWhatIsWrong() {
        assertThatThrownBy(() -> MoeKernels.requireRouting(3, 0, 1)).hasMessageContaining("experts must be in [1, 256]: 0");
        assertThatThrownBy(() -> MoeKernels.requireRouting(3, 257, 2)).hasMessageContaining("experts must be in [1, 256]: 257");
        assertThatThrownBy(() -> MoeKernels.requireRouting(3, 8, 0)).hasMessageContaining("top-k must be in [1, 8]: 0");
        assertThatThrownBy(() -> MoeKernels.requireRouting(3, 4, 5)).hasMessageContaining("top-k must be in [1, 4]: 5");
        assertThatThrownBy(() -> MoeKernels.requireRouting(3, 64, 9)).hasMessageContaining("top-k must be in [1, 8]: 9");
        assertThatThrownBy(() -> MoeKernels.requireRouting(-1, 8, 2)).hasMessageContaining("tokens must be >= 0: -1");
        MoeKernels.requireRouting(0, 256, 8);
    }

    @Test
    void decodeBatchesUseGemvTilesAndTheTileCountCoversTheWorstCase() {
        assertThat(MoeKernels.tileRows(1, 8)).isEqualTo(MoeKernels.GEMV_TILE_ROWS);
        assertThat(MoeKernels.tileRows(64, 8)).isEqualTo(MoeKernels.GEMV_TILE_ROWS);  // 32 tokens top-2 on Mixtral
        assertThat(MoeKernels.tileRows(65, 8)).isEqualTo(MoeKernels.GEMM_TILE_ROWS);
        assertThat(MoeKernels.tileRows(512, 64)).isEqualTo(MoeKernels.GEMV_TILE_ROWS);
        // 2 rows on 2 experts: 2 tiles; 10 rows of 4-row tiles over 8 experts: 3 full-width tiles + a partial per expert
        assertThat(MoeKernels.maxTiles(2, 8, 4)).isEqualTo(1 + 2);
        assertThat(MoeKernels.maxTiles(10, 8, 4)).isEqualTo(3 + 8);
        assertThat(MoeKernels.maxTiles(80, 8, 64)).isEqualTo(2 + 8);
        // every split of the rows over the experts fits: sum of ceil(count / tile) <= maxTiles
        int rows = 80, experts = 8, tile = 64;
        int[] counts = {64, 1, 1, 1, 1, 1, 1, 10};
        int needed = 0;
        for (int c : counts) needed += (c + tile - 1) / tile;
        assertThat(java.util.Arrays.stream(counts).sum()).isEqualTo(rows);
        assertThat(needed).isLessThanOrEqualTo(MoeKernels.maxTiles(rows, experts, tile));
    }

    @Test
    void routesAreContiguousSlicesOfTheirStorage() {
        CudaActivation storage = activation(1, CudaExpertRoutes.words(5, 2, 8));
        CudaExpertRoutes r = CudaExpertRoutes.in(storage, 5, 2, 8);
        assertThat(r.rows()).isEqualTo(10);
        assertThat(r.tileRows()).isEqualTo(4);
        assertThat(r.maxTiles()).isEqualTo(3 + 8);
        long base = storage.data().address();
        assertThat(List.of(r.expert(), r.weight(), r.order(), r.position(), r.offsets(), r.tiles()))
                .extracting(DeviceBuffer::address)
                .containsExactly(base, base + 40, base + 80, base + 120, base + 160, base + 160 + 36);
        assertThat(r.tiles().bytes()).isEqualTo(8L * r.maxTiles());
        assertThat(r.tiles().address() + r.tiles().bytes() - base).isEqualTo(4L * CudaExpertRoutes.words(5, 2, 8));
        assertThatThrownBy(() -> CudaExpertRoutes.in(activation(1, 10), 5, 2, 8)).hasMessageContaining("need");
    }

    @Test
    void routeIsAWarpPerTokenAndPermuteOneBlock() {
        CudaExpertRoutes r = routes(9, 2, 8);
        CudaActivation logits = activation(9, 8);
        List<MoeKernels.Launch> launches = MoeKernels.routing(logits, r);
        assertThat(launches).extracting(MoeKernels.Launch::kernel).containsExactly("moe_route", "moe_permute");
        var route = launches.get(0).config();
        assertThat(route.grid().x()).isEqualTo(3);
        assertThat(route.block().x()).isEqualTo(128);
        var permute = launches.get(1).config();
        assertThat(permute.grid().x()).isEqualTo(1);
        assertThat(permute.block().x()).isEqualTo(256);
        assertThat(permute.sharedBytes()).isEqualTo((3 * 257 + 1) * 4);
        long[] s = slots(launches.get(0));
        assertThat(s[0]).isEqualTo(logits.data().address());
        assertThat((int) s[1]).isEqualTo(9);
        assertThat((int) s[2]).isEqualTo(8);
        assertThat((int) s[3]).isEqualTo(2);
        assertThat(s[4]).isEqualTo(r.expert().address());
        long[] p = slots(launches.get(1));
        assertThat((int) p[1]).isEqualTo(18);
        assertThat((int) p[3]).isEqualTo(4);
        assertThat((int) p[4]).isEqualTo(r.maxTiles());
        assertThat(p[8]).isEqualTo(r.tiles().address());
        assertThatThrownBy(() -> MoeKernels.routing(activation(9, 7), r)).hasMessageContaining("router logits [9, 7]");
    }

    @Test
    void gatherAndCombineAreABlockPerRow() {
        CudaExpertRoutes r = routes(7, 2, 8);
        CudaActivation x = activation(7, 33), sorted = activation(14, 33);
        var gather = MoeKernels.gather(x, r, sorted);
        assertThat(gather.config().grid().x()).isEqualTo(14);
        assertThat(gather.config().block().x()).isEqualTo(256);
        var combine = MoeKernels.combine(sorted, r, x);
        assertThat(combine.config().grid().x()).isEqualTo(7);
        assertThat(slots(combine)[2]).isEqualTo(r.weight().address());
        assertThatThrownBy(() -> MoeKernels.gather(x, r, activation(13, 33))).hasMessageContaining("gatherRouted output is [13, 33], expected [14, 33]");
        assertThatThrownBy(() -> MoeKernels.combine(sorted, r, activation(7, 32))).hasMessageContaining("combineRouted input is [14, 33], expected [14, 32]");
    }

    @Test
    void expertLinearPicksItsKernelAndGridFromTheRoutes() {
        CudaExperts bf16 = experts(WeightFormat.BF16, 8, 70, 33, Float.NaN);
        CudaExpertRoutes decode = routes(5, 2, 8), prefill = routes(40, 2, 8);
        var gemv = MoeKernels.linear(activation(10, 33), bf16, decode, activation(10, 70));
        assertThat(gemv.kernel()).isEqualTo("moe_gemv_bf16");
        assertThat(gemv.config().grid().x()).isEqualTo(18);  // 70 columns, a warp each, 4 per block
        assertThat(gemv.config().grid().y()).isEqualTo(decode.maxTiles());
        assertThat(gemv.config().block().x()).isEqualTo(128);
        var gemm = MoeKernels.linear(activation(80, 33), bf16, prefill, activation(80, 70));
        assertThat(gemm.kernel()).isEqualTo("moe_gemm_bf16");
        assertThat(gemm.config().grid().x()).isEqualTo(2);
        assertThat(gemm.config().grid().y()).isEqualTo(2 + 8);
        assertThat(gemm.config().block().x()).isEqualTo(256);
        assertThat(gemm.config().sharedBytes()).isEqualTo(2 * 32 * 68 * 4);
        assertThat(gemv.config().sharedBytes()).isZero();
        long[] s = slots(gemm);
        assertThat(s[1]).isEqualTo(bf16.pointers().address());
        assertThat(s[2]).isEqualTo(40);  // stride of 33 BF16 columns
        assertThat((int) s[8]).isEqualTo(70);
        assertThat((int) s[9]).isEqualTo(33);
        CudaExperts fp8 = experts(WeightFormat.E4M3, 8, 70, 33, 0.05f);
        assertThat(MoeKernels.linear(activation(10, 33), fp8, decode, activation(10, 70)).kernel()).isEqualTo("moe_gemv_e4m3_w8a8");
        assertThatThrownBy(() -> MoeKernels.linear(activation(10, 32), bf16, decode, activation(10, 70)))
                .hasMessageContaining("expertLinear input is [10, 32], expected [10, 33]");
        assertThatThrownBy(() -> MoeKernels.linear(activation(10, 33), bf16, decode, activation(10, 69)))
                .hasMessageContaining("expertLinear output is [10, 69], expected [10, 70]");
        assertThatThrownBy(() -> MoeKernels.linear(activation(10, 33), experts(WeightFormat.BF16, 4, 70, 33, Float.NaN), decode,
                activation(10, 70))).hasMessageContaining("4 expert weights for routes over 8 experts");
    }

    @Test
    void expertTablesHoldAddressesAndScalesOfUniformExperts() {
        CudaExperts fp8 = experts(WeightFormat.E4M3, 3, 16, 32, 0.25f);
        CudaExperts.Tables tables = CudaExperts.tables(fp8.experts());
        assertThat(tables.pointers()).containsExactly(fp8.experts().stream().mapToLong(w -> w.data().address()).toArray());
        assertThat(tables.activationScales()).containsExactly(0.25f, 0.25f, 0.25f);
        assertThat(tables.outScales()).containsExactly(0.125f, 0.125f, 0.125f);
        CudaWeight odd = new CudaWeight(buffer(16 * 48), WeightFormat.E4M3, 16, 33, 48, 1f, 0.25f);
        assertThatThrownBy(() -> CudaExperts.tables(List.of(fp8.experts().get(0), odd)))
                .hasMessageContaining("expert 1 is E4M3 [16, 33], expert 0 E4M3 [16, 32]");
        assertThatThrownBy(() -> CudaExperts.tables(experts(WeightFormat.BF16, 2, 16, 32, 0.25f).experts()))
                .hasMessageContaining("static activation quantization of BF16 expert weights");
        assertThatThrownBy(() -> CudaExperts.tables(List.of())).hasMessageContaining("no experts");
    }
}
