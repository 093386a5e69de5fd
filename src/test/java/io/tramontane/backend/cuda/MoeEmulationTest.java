package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.Activation;
import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.backend.cpu.CpuExpertRoutes;
import io.tramontane.backend.cuda.MoeChecks.MoeShape;
import io.tramontane.weights.DType;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * CudaBackend's MoE kernels without a GPU: the launches MoeKernels builds, run by {@link KernelEmulator} on the kernel
 * bodies of moe_core.cuh (warps of fibers with shuffles and ballots), against CpuBackend. Routing (moe_route,
 * moe_permute, moe_gather, moe_combine): expert ids and weights per token, the sorted order and its inverse, the
 * offsets and the tile map exactly; the gathered rows exactly; the combined rows at {@link BackendChecks#FP32_BOUND}.
 * Grouped linears (moe_gemv_* on decode batches, moe_gemm_* on prefill ones, F32/BF16/FP8 and static w8a8 weights
 * laid out as WeightUpload pads them) at {@link BackendChecks#SUM_BOUND}. Deliberately broken copies of moe_core.cuh
 * must fail the same comparisons. Skipped, visibly, without g++.
 */
class MoeEmulationTest {
    private static final Path MOE_CORE = CudaToolkit.repositoryRoot().resolve("cuda-kernels/moe_core.cuh");

    @BeforeEach
    void needsGxx() {
        EmulatorBuild.assumeBuilt(KernelEmulator.binary(), "MoeEmulationTest");
    }

    /** The GPU check's shapes, plus the limits (256 experts, top-8) and 140 rows (several ballot chunks and tiles). */
    static Stream<MoeShape> shapes() {
        return Stream.concat(MoeChecks.SHAPES.stream(), Stream.of(new MoeShape(3, 256, 8, 9, 1), new MoeShape(70, 8, 2, 5, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void routingMatchesTheCpu(MoeShape s, @TempDir Path work) throws Exception {
        assertThat(mismatch(new KernelEmulator(), s, work)).isNull();
    }

    static Stream<Arguments> brokenVariants() {
        return Stream.of(
                Arguments.of("ties go to the higher expert", "other_value == best_value && other < best",
                        "other_value == best_value && other > best"),
                Arguments.of("rows of a 32-row chunk reversed", "const int p = next + popc(hits & below);",
                        "const int p = next + popc(hits) - 1 - popc(hits & below);"),
                Arguments.of("weights in selection order", "best_weight = weight_of[t * top_k + s];",
                        "best_weight = weight_of[t * top_k + j];"),
                Arguments.of("no barrier before the scan", "    Ops::sync();\n    if (Ops::thread() == 0) {",
                        "    if (Ops::thread() == 0) {"),
                Arguments.of("partial tiles dropped", "tile += (count[e] + tile_rows - 1) / tile_rows;",
                        "tile += count[e] / tile_rows;"),
                Arguments.of("every gemm tile on expert 0's weights", "const T* w = weights[tile.expert];",
                        "const T* w = weights[0];"),
                Arguments.of("gemv weight rows a chunk short of the stride", "const T* w_row = weights[tile.expert] + col * stride;",
                        "const T* w_row = weights[tile.expert] + col * (stride - V);"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenVariants")
    void brokenVariantsFail(String name, String original, String broken, @TempDir Path work) throws Exception {
        String source = Files.readString(MOE_CORE);
        assertThat(source).as("moe_core.cuh still has the code this variant breaks").contains(original);
        Path emulator = KernelEmulator.withCore("moe_core.cuh", source.replace(original, broken), work).orElseThrow();
        boolean failed = false;
        List<Check> checks = List.of(
                () -> mismatch(new KernelEmulator(emulator), MoeChecks.SHAPES.get(2), work),
                () -> mismatch(new KernelEmulator(emulator), new MoeShape(3, 40, 8, 9, 1), work),
                () -> linearMismatch(new KernelEmulator(emulator), WeightFormat.E4M3, true, MoeChecks.SHAPES.get(1), work),
                () -> linearMismatch(new KernelEmulator(emulator), WeightFormat.BF16, false, MoeChecks.SHAPES.get(2), work));
        for (Check check : checks) {
            String why;
            try {
                why = check.mismatch();
            } catch (AssertionError e) {  // the emulator itself stopped (an out-of-bounds access, say)
                why = e.getMessage().strip().replace('\n', ' ');
            }
            if (why != null) System.err.println("MoeEmulationTest: '" + name + "' caught: " + why);
            failed |= why != null;
        }
        assertThat(failed).as("the variant '%s' is caught", name).isTrue();
    }

    private interface Check {
        String mismatch() throws Exception;
    }

    static Stream<Arguments> linearCases() {
        return Stream.of(WeightFormat.values()).flatMap(format -> Stream.of(MoeChecks.SHAPES.get(1), MoeChecks.SHAPES.get(2),
                new MoeShape(3, 8, 2, 40, 24)).map(shape -> Arguments.of(format, false, shape)))
                .collect(java.util.stream.Collectors.collectingAndThen(java.util.stream.Collectors.toList(), cases -> {
                    cases.add(Arguments.of(WeightFormat.E4M3, true, MoeChecks.SHAPES.get(1)));
                    cases.add(Arguments.of(WeightFormat.E4M3, true, MoeChecks.SHAPES.get(3)));
                    return cases.stream();
                }));
    }

    @ParameterizedTest(name = "{0} w8a8={1} {2}")
    @MethodSource("linearCases")
    void groupedLinearsMatchTheCpu(WeightFormat format, boolean w8a8, MoeShape s, @TempDir Path work) throws Exception {
        assertThat(linearMismatch(new KernelEmulator(), format, w8a8, s, work)).isNull();
    }

    /**
     * Null when the emulated expertLinear of {@code s}'s routed rows (width dim) into hidden outputs matches the CPU's;
     * otherwise what differs. Routes come from the emulated routing kernels, checked above.
     */
    static String linearMismatch(KernelEmulator device, WeightFormat format, boolean w8a8, MoeShape s, Path work)
            throws Exception {
        long seed = 20261126L + s.hashCode() + format.ordinal();
        SplittableRandom random = new SplittableRandom(seed);
        DType dtype = switch (format) {
            case F32 -> DType.F32;
            case BF16 -> DType.BF16;
            case E4M3 -> DType.F8_E4M3;
        };
        List<Linear> linears = new ArrayList<>();
        List<CudaWeight> weights = new ArrayList<>();
        for (int e = 0; e < s.experts(); e++) {
            Tensor w = RandomTensors.tensor("expert" + e, dtype, s.hidden(), s.dim(), random, format == WeightFormat.E4M3 ? 8 : 0.5);
            Linear linear = new Linear(w, format == WeightFormat.E4M3 ? 0.0625f * (1 + e % 3) : 1f,
                    w8a8 ? 0.05f / (1 + e % 2) : Float.NaN);
            linears.add(linear);
            weights.add(new CudaWeight(device.bytes(EmulatedDevice.padded(w, format)), format, s.hidden(), s.dim(), format.stride(s.dim()),
                    linear.weightScale(), linear.activationScale()));
        }
        CudaExperts.Tables tables = CudaExperts.tables(weights);
        CudaExperts experts = new CudaExperts(weights, device.longs(tables.pointers()), device.floats(tables.activationScales()),
                device.floats(tables.outScales()));
        float[] logits = MoeChecks.logits(random, s), x = RandomTensors.floats(random, s.tokens() * s.dim(), 1);
        int rows = s.tokens() * s.topK();

        CudaExpertRoutes routes = CudaExpertRoutes.in(
                device.activation(1, CudaExpertRoutes.words(s.tokens(), s.topK(), s.experts()), null), s.tokens(), s.topK(),
                s.experts());
        CudaActivation xSorted = device.activation(rows, s.dim(), null), out = device.activation(rows, s.hidden(), null);
        MoeKernels.routing(device.activation(s.tokens(), s.experts(), logits), routes).forEach(device::launch);
        device.launch(MoeKernels.gather(device.activation(s.tokens(), s.dim(), x), routes, xSorted));
        MoeKernels.Launch linear = MoeKernels.linear(xSorted, experts, routes, out);
        assertThat(linear.kernel()).startsWith(rows <= MoeKernels.GEMV_ROWS_PER_EXPERT * s.experts() ? "moe_gemv_" : "moe_gemm_");
        device.launch(linear);
        float[] got = device.run(work, List.of(out.data())).getFirst();

        try (CpuBackend cpu = new CpuBackend(new CpuBackend.Options(1, true))) {
            var cpuRoutes = cpu.routeExperts(matrix(cpu, logits, s.tokens(), s.experts()), s.topK());
            Activation cpuSorted = cpu.allocate(rows, s.dim()), cpuOut = cpu.allocate(rows, s.hidden());
            cpu.gatherRouted(matrix(cpu, x, s.tokens(), s.dim()), cpuRoutes, cpuSorted);
            cpu.expertLinear(cpuSorted, cpu.experts(linears), cpuRoutes, cpuOut);
            CheckResult result = BackendChecks.compare(linear.kernel(), s.toString(), seed, got, BackendChecks.read(cpu, cpuOut),
                    true, BackendChecks.SUM_BOUND, Double.NaN);
            System.err.printf("MoeEmulationTest: %s %s: max %.2e%n", linear.kernel(), s, result.maxRelativeError());
            return result.passed() ? null : s + " " + linear.kernel() + ": " + result.detail();
        }
    }

    /** Null when the emulated routing of {@code s} matches the CPU's; otherwise what differs first. */
    static String mismatch(KernelEmulator device, MoeShape s, Path work) throws Exception {
        long seed = 20261125L + s.hashCode();
        SplittableRandom random = new SplittableRandom(seed);
        float[] logits = MoeChecks.logits(random, s);
        int rows = s.tokens() * s.topK();
        float[] x = RandomTensors.floats(random, s.tokens() * s.dim(), 1), y = RandomTensors.floats(random, rows * s.dim(), 1);

        CudaExpertRoutes routes = CudaExpertRoutes.in(
                device.activation(1, CudaExpertRoutes.words(s.tokens(), s.topK(), s.experts()), null), s.tokens(), s.topK(),
                s.experts());
        CudaActivation xSorted = device.activation(rows, s.dim(), null), out = device.activation(s.tokens(), s.dim(), null);
        MoeKernels.routing(device.activation(s.tokens(), s.experts(), logits), routes).forEach(device::launch);
        device.launch(MoeKernels.gather(device.activation(s.tokens(), s.dim(), x), routes, xSorted));
        device.launch(MoeKernels.combine(device.activation(rows, s.dim(), y), routes, out));
        List<float[]> got = device.run(work, List.of(routes.expert(), routes.weight(), routes.order(), routes.position(),
                routes.offsets(), routes.tiles(), xSorted.data(), out.data()));

        try (CpuBackend cpu = new CpuBackend(new CpuBackend.Options(1, true))) {
            CpuExpertRoutes expected = (CpuExpertRoutes) cpu.routeExperts(matrix(cpu, logits, s.tokens(), s.experts()), s.topK());
            Activation cpuSorted = cpu.allocate(rows, s.dim()), cpuOut = cpu.allocate(s.tokens(), s.dim());
            cpu.gatherRouted(matrix(cpu, x, s.tokens(), s.dim()), expected, cpuSorted);
            cpu.combineRouted(matrix(cpu, y, rows, s.dim()), expected, cpuOut);
            String differs = firstDifference("expert ids", expected.expert(), bits(got.get(0)));
            if (differs == null) differs = firstDifference("weights", bits(expected.weight()), bits(got.get(1)));
            if (differs == null) differs = firstDifference("sorted order", expected.order(), bits(got.get(2)));
            if (differs == null) differs = firstDifference("positions", expected.position(), bits(got.get(3)));
            if (differs == null) differs = firstDifference("offsets", expected.offsets(), bits(got.get(4)));
            if (differs == null) differs = firstDifference("tiles", tiles(expected.offsets(), routes), bits(got.get(5)));
            if (differs == null) differs = firstDifference("gathered rows", bits(BackendChecks.read(cpu, cpuSorted)), bits(got.get(6)));
            if (differs != null) return s + ": " + differs;
            CheckResult combined = BackendChecks.compare("combine", s.toString(), seed, got.get(7), BackendChecks.read(cpu, cpuOut),
                    true, BackendChecks.FP32_BOUND, Double.NaN);
            return combined.passed() ? null : s + ": combined rows: " + combined.detail();
        }
    }

    /** The tile map the kernels must write: each expert's rows in tiles of routes.tileRows(), then unused tiles (-1, 0). */
    private static int[] tiles(int[] offsets, CudaExpertRoutes routes) {
        int[] tiles = new int[2 * routes.maxTiles()];
        int tile = 0;
        for (int e = 0; e + 1 < offsets.length; e++) {
            for (int first = offsets[e]; first < offsets[e + 1]; first += routes.tileRows()) {
                tiles[2 * tile] = e;
                tiles[2 * tile++ + 1] = first;
            }
        }
        for (; tile < routes.maxTiles(); tile++) tiles[2 * tile] = -1;
        return tiles;
    }

    private static String firstDifference(String what, int[] expected, int[] actual) {
        if (Arrays.equals(expected, actual)) return null;
        int i = Arrays.mismatch(expected, actual);
        return what + " differ at " + i + ": " + (i < actual.length ? actual[i] : "none") + ", expected "
                + (i < expected.length ? expected[i] : "none");
    }

    private static int[] bits(float[] values) {
        return IntStream.range(0, values.length).map(i -> Float.floatToRawIntBits(values[i])).toArray();
    }

    private static Activation matrix(CpuBackend cpu, float[] values, int rows, int cols) {
        Activation a = cpu.allocate(rows, cols);
        cpu.embed(cpu.weight(Tensor.ofFloats("input", new long[] {rows, cols}, values)), IntStream.range(0, rows).toArray(), a);
        return a;
    }
}
