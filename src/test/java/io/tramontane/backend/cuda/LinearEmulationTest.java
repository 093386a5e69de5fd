package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.weights.DType;
import io.tramontane.weights.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decode gemv of linear_core.cuh without a GPU: launches as LinearKernels builds them, run by {@link KernelEmulator}
 * (cp.async copies land at issue or only at the wait that covers them; shared memory and unwritten outputs start as
 * NaN), against a Java model of the kernel's summation order, bit for bit, and against a double-precision dot product.
 * The cases cover every weight format, rows split over 1 to 8 warps, several row units per block and an uneven last
 * block, more ring stages per row than the ring holds, a partial last chunk, columns not a multiple of 4 (scalar x
 * loads) and 1 to 8 tokens (two token groups). Skipped, visibly, without g++.
 */
class LinearEmulationTest {
    private static final Path LINEAR_CORE = CudaToolkit.repositoryRoot().resolve("cuda-kernels/linear_core.cuh");

    /** m tokens through an n x k weight on a device of {@code multiprocessors} SMs (which sets the rows' split). */
    record Case(WeightFormat format, GemvLayout layout, int m, int n, int k, int multiprocessors) {
        Case(WeightFormat format, int m, int n, int k, int multiprocessors) {
            this(format, GemvLayout.PRODUCTION, m, n, k, multiprocessors);
        }

        @Override
        public String toString() {
            return layout.kernel(format) + " " + m + "x" + n + "x" + k + " on " + multiprocessors + " SMs, "
                    + layout.parts(new int[] {n}, multiprocessors) + " warps a row";
        }
    }

    @BeforeEach
    void needsGxx() {
        EmulatorBuild.assumeBuilt(KernelEmulator.binary(), "LinearEmulationTest");
    }

    static Stream<Case> cases() {
        return Stream.concat(Stream.of(WeightFormat.values()).flatMap(f -> Stream.of(
                new Case(f, 1, 128, 2100, 1),  // one warp a row, 2 blocks of 2 units, many stages a row
                new Case(f, 3, 21, 301, 1),    // 4 warps a row, blocks of 2 and 1 units, a partial unit, scalar x loads
                new Case(f, 5, 100, 300, 2),   // 2 warps a row, two token groups, blocks of 4 and 3 units
                new Case(f, 8, 7, 33, 132),    // 8 warps a row, two token groups, a partial chunk
                new Case(f, 2, 129, 1000, 132))), alternatives());
    }

    /** The ring shapes GemvTiming times beside the production one. */
    private static Stream<Case> alternatives() {
        return GemvLayout.ALTERNATIVES.stream().flatMap(layout -> Stream.of(WeightFormat.E4M3, WeightFormat.BF16).flatMap(f -> Stream.of(
                new Case(f, layout, 1, 64, 2100, 1), new Case(f, layout, 5, 21, 301, 1), new Case(f, layout, 8, 7, 33, 132))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gemvMatchesItsSummationOrderBitForBit(Case c, @TempDir Path work) throws Exception {
        assertThat(mismatch(new KernelEmulator(), c, work)).isNull();
    }

    /** q, k and v of a GQA layer (and gate and up) in one launch: units of three weights side by side. */
    static Stream<Arguments> groups() {
        return Stream.of(Arguments.of(WeightFormat.E4M3, 1, new int[] {64, 16, 16}, 300, 1),  // 1 warp a row, partial units
                Arguments.of(WeightFormat.BF16, 5, new int[] {40, 10, 10}, 301, 2),          // 2 warps a row, odd k
                Arguments.of(WeightFormat.F32, 2, new int[] {24, 24}, 64, 132),              // 8 warps a row, two weights
                Arguments.of(WeightFormat.E4M3, 8, new int[] {7, 3, 5}, 33, 132));
    }

    @ParameterizedTest(name = "{0} {1} tokens, rows {2}, k {3}, {4} SMs")
    @MethodSource("groups")
    void weightsSharingTheirInputGiveEachItsRowsBitForBit(WeightFormat format, int m, int[] rows, int k, int multiprocessors,
                                                          @TempDir Path work) throws Exception {
        assertThat(mismatch(new KernelEmulator(), format, GemvLayout.PRODUCTION, m, rows, k, multiprocessors, work)).isNull();
    }

    private static DType dtype(WeightFormat format) {
        return switch (format) {
            case F32 -> DType.F32;
            case BF16 -> DType.BF16;
            case E4M3 -> DType.F8_E4M3;
        };
    }

    @Test
    void aRingReadBeforeItsStageHasLandedIsCaught(@TempDir Path work) throws Exception {
        String source = Files.readString(LINEAR_CORE);
        String original = "Ops::template cp_async_wait<S - 2>();";
        assertThat(source).contains(original);
        Path emulator = KernelEmulator.withCore("linear_core.cuh", source.replace(original, "Ops::template cp_async_wait<S - 1>();"),
                work).orElseThrow();
        String why = mismatch(new KernelEmulator(emulator), new Case(WeightFormat.E4M3, 1, 128, 2100, 1), work);
        System.err.println("LinearEmulationTest: waiting one stage short caught: " + why);
        assertThat(why).isNotNull();
    }

    @Test
    void theWarpsOfARowAddedInAnotherOrderAreCaught(@TempDir Path work) throws Exception {
        String source = Files.readString(LINEAR_CORE);
        String original = "for (int p = 0; p < parts; p++) sum += slot_partials[(p * R + r) * GEMV_TOKENS + lane];";
        assertThat(source).contains(original);
        Path emulator = KernelEmulator.withCore("linear_core.cuh", source.replace(original,
                "for (int p = parts - 1; p >= 0; p--) sum += slot_partials[(p * R + r) * GEMV_TOKENS + lane];"), work).orElseThrow();
        String why = mismatch(new KernelEmulator(emulator), new Case(WeightFormat.F32, 2, 129, 1000, 132), work);
        System.err.println("LinearEmulationTest: parts summed backwards caught: " + why);
        assertThat(why).isNotNull();
    }

    static String mismatch(KernelEmulator device, Case c, Path work) throws Exception {
        return mismatch(device, c.format(), c.layout(), c.m(), new int[] {c.n()}, c.k(), c.multiprocessors(), work);
    }

    /**
     * Null when one emulated gemv launch of weights of {@code rows[i]} rows sharing x gives every output the modelled
     * bits (warps per row chosen by all the rows) and agrees with a double dot product; else what differs first.
     */
    static String mismatch(KernelEmulator device, WeightFormat format, GemvLayout layout, int m, int[] rows, int k,
                           int multiprocessors, Path work) throws Exception {
        int count = rows.length, total = java.util.Arrays.stream(rows).sum();
        SplittableRandom random = new SplittableRandom(20261126L + 31L * k + 7L * m + total + format.ordinal());
        float[] x = RandomTensors.floats(random, m * k, 1);
        CudaWeight[] ws = new CudaWeight[count];
        DeviceBuffer[] ys = new DeviceBuffer[count];
        float[][] weights = new float[count][];
        float[] scales = new float[count];
        for (int i = 0; i < count; i++) {
            Tensor w = RandomTensors.tensor("w" + i, dtype(format), rows[i], k, random, format == WeightFormat.E4M3 ? 8 : 0.5);
            weights[i] = w.toFloatArray();
            scales[i] = 0.75f + i;
            ws[i] = new CudaWeight(device.bytes(EmulatedDevice.padded(w, format)), format, rows[i], k, format.stride(k), 1f, Float.NaN);
            ys[i] = device.allocate((long) m * rows[i] * Float.BYTES);
        }
        DeviceBuffer xs = device.floats(x);
        assertThat(LinearKernels.name(format, m)).startsWith("linear_gemv_");
        device.launch(layout.kernel(format), layout.config(m, rows, multiprocessors),
                args -> LinearKernels.gemvArguments(args, xs, ws, ys, scales, m, layout, multiprocessors));
        java.util.List<float[]> got = device.run(work, java.util.List.of(ys));

        int parts = layout.parts(rows, multiprocessors), elements = 16 / format.bytes;
        String launch = layout.kernel(format) + " " + m + "x" + java.util.Arrays.toString(rows) + "x" + k + " on " + multiprocessors
                + " SMs, " + parts + " warps a row";
        for (int i = 0; i < count; i++) {
            for (int t = 0; t < m; t++) {
                for (int row = 0; row < rows[i]; row++) {
                    float expected = modelled(weights[i], x, row, t, k, elements, parts) * scales[i];
                    float actual = got.get(i)[t * rows[i] + row];
                    if (Float.floatToRawIntBits(actual) != Float.floatToRawIntBits(expected)) {
                        return launch + ": weight " + i + " token " + t + " row " + row + ": " + actual + ", modelled " + expected;
                    }
                    double exact = 0, norm = 0;
                    for (int j = 0; j < k; j++) {
                        exact += (double) weights[i][row * k + j] * x[t * k + j];
                        norm += Math.abs((double) weights[i][row * k + j] * x[t * k + j]);
                    }
                    if (Math.abs(actual - exact * scales[i]) > 1e-5 * norm * scales[i]) {
                        return launch + ": weight " + i + " token " + t + " row " + row + ": " + actual + ", exactly " + exact * scales[i];
                    }
                }
            }
        }
        return null;
    }

    /**
     * The kernel's order for one output: lane l of part p sums, by fma in column order, the chunks p * 32 + l + j * 32 * parts
     * of {@code elements} columns; the 32 lanes meet in a butterfly (offsets 16 .. 1); the parts are added in order from 0.
     */
    private static float modelled(float[] w, float[] x, int row, int t, int k, int elements, int parts) {
        int chunks = (k + elements - 1) / elements;
        float[] perPart = new float[parts];
        for (int p = 0; p < parts; p++) {
            float[] lanes = new float[32];
            for (int lane = 0; lane < 32; lane++) {
                float acc = 0f;
                for (int chunk = p * 32 + lane; chunk < chunks; chunk += 32 * parts) {
                    for (int e = 0; e < elements; e++) {
                        int col = chunk * elements + e;
                        if (col < k) acc = Math.fma(w[row * k + col], x[t * k + col], acc);
                    }
                }
                lanes[lane] = acc;
            }
            for (int offset = 16; offset > 0; offset >>= 1) {
                float[] next = new float[32];
                for (int lane = 0; lane < 32; lane++) next[lane] = lanes[lane] + lanes[lane ^ offset];
                lanes = next;
            }
            perPart[p] = lanes[0];
        }
        if (parts == 1) return perPart[0];
        float sum = 0f;
        for (float part : perPart) sum += part;
        return sum;
    }
}
