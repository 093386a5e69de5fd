package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.Activation;
import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.backend.cuda.GemmChecks.GemmShape;
import io.tramontane.backend.cuda.GemmChecks.Mode;
import io.tramontane.backend.cuda.TensorCoreGemm.Input;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.TensorMap;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensor-core GEMM without a GPU: the launch TensorCoreGemm builds (grid, shared memory, the tensor maps' shapes,
 * boxes, strides and swizzle, the parameters as marshalled for cuLaunchKernel) run by {@link GemmEmulator} on the kernel
 * body of gemm_sm90_core.cuh, against CpuBackend with the GPU check's bounds. The emulator models TMA with the 128-byte
 * swizzle, mbarrier phases and transaction counts, and wgmma's descriptors and accumulator fragments from the PTX ISA;
 * deliberately broken copies of the kernel must fail. The input conversion kernels are not emulated: the test converts
 * as they do (BF16 rounding, e4m3 with static or per-token scales) and GemmChecks covers them on a GPU.
 * Skipped, visibly, without g++.
 */
class GemmEmulationTest {

    @BeforeEach
    void needsGxx() {
        EmulatorBuild.assumeBuilt(GemmEmulator.binary(), "GemmEmulationTest");
    }

    static Stream<GemmShape> shapes() {
        return Stream.of(
                new GemmShape(Mode.BF16, 9, 70, 33),              // one partial tile, k below one box
                new GemmShape(Mode.BF16, 130, 257, 1000),         // partial tiles in m, n (odd) and k; 16 k-tiles: the ring wraps
                new GemmShape(Mode.FP8_PER_TOKEN, 130, 256, 1000),
                new GemmShape(Mode.FP8_STATIC, 200, 129, 2000),
                new GemmShape(Mode.FP8_PER_TOKEN, 256, 384, 4096));  // whole tiles only, 2 x 3 CTAs, 32 k-tiles
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapes")
    void matchesTheCpu(GemmShape s, @TempDir Path work) throws Exception {
        CheckResult result = emulate(GemmEmulator.binary().orElseThrow(), s, work);
        System.err.printf("GemmEmulationTest: %s %s: max %.2e%n", s.mode(), s, result.maxRelativeError());
        assertThat(result.passed()).as("%s", result).isTrue();
    }

    /** Each mutation breaks one thing the emulator models; the emulated kernel must then miss the CPU's result. */
    static Stream<Arguments> brokenKernels() {
        return Stream.of(
                Arguments.of("descriptor stride byte offset 512 instead of 1024",
                        "(static_cast<uint64_t>(SWIZZLE_ATOM_BYTES >> 4) << 32)",
                        "(static_cast<uint64_t>(SWIZZLE_ATOM_BYTES >> 5) << 32)"),
                Arguments.of("k advanced by 16 bytes per wgmma instead of 32",
                        "descriptor(x_rows + kk * WGMMA_K_BYTES), descriptor(w_rows + kk * WGMMA_K_BYTES)",
                        "descriptor(x_rows + kk * 16), descriptor(w_rows + kk * 16)"),
                Arguments.of("stage released before its wgmmas completed",
                        "if (t > 0 && lane == 0) Ops::arrive(empty + (t - 1) % STAGES);",
                        "if (lane == 0) Ops::arrive(empty + t % STAGES);"),
                Arguments.of("x and w tiles read without waiting for their TMA loads",
                        "Ops::wait(full + s, (t / STAGES) & 1);", "(void) full;"),
                Arguments.of("accumulator rows of the fragment misread",
                        "16 * warp + lane / 4 + 8 * half", "16 * warp + 2 * (lane / 4) + half"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenKernels")
    void aBrokenKernelFails(String what, String correct, String broken, @TempDir Path work) throws Exception {
        String core = Files.readString(GemmEmulator.CORE);
        assertThat(core).as("the kernel source to break").contains(correct);
        Path dir = Files.createDirectories(work.resolve("broken"));
        Files.writeString(dir.resolve(GemmEmulator.CORE.getFileName().toString()), core.replace(correct, broken));
        Path emulator = GemmEmulator.compile(dir, work.resolve("gemm_emulator_broken"));
        String failure;
        try {
            CheckResult result = emulate(emulator, new GemmShape(Mode.BF16, 130, 257, 1000), work);
            failure = result.passed() ? null : result.detail() + " (max " + result.maxRelativeError() + ")";
        } catch (AssertionError emulatorFailed) {
            failure = emulatorFailed.getMessage().strip();
        }
        System.err.printf("GemmEmulationTest: with the %s: %s%n", what, failure);
        assertThat(failure).as("the emulated kernel with the %s", what).isNotNull();
    }

    /** One linear through the emulated kernel, compared with the CPU's linear on the input the GPU multiplies. */
    private static CheckResult emulate(Path emulatorBinary, GemmShape s, Path work) throws Exception {
        long seed = 20261125L + s.toString().hashCode() + s.mode().ordinal();
        SplittableRandom random = new SplittableRandom(seed);
        boolean fp8 = s.mode() != Mode.BF16;
        WeightFormat format = fp8 ? WeightFormat.E4M3 : WeightFormat.BF16;
        Tensor w = RandomTensors.tensor("w", s.mode().weightType(), s.n(), s.k(), random, fp8 ? 8 : 0.5);
        float weightScale = fp8 ? 0.0625f : 1f, activationScale = s.mode() == Mode.FP8_STATIC ? 0.01f : Float.NaN;
        float[] x = RandomTensors.floats(random, s.m() * s.k(), 1);
        long stride = format.stride(s.k()), rowBytes = stride * format.bytes;

        try (GemmEmulator device = new GemmEmulator(); Arena arena = Arena.ofConfined();
             CpuBackend cpu = new CpuBackend(new CpuBackend.Options(2, true))) {
            CudaWeight weight = new CudaWeight(device.bytes(deviceRows(w, s.n(), rowBytes, s.k() * format.bytes)), format, s.n(),
                    s.k(), stride, weightScale, activationScale);
            Input input = Input.of(weight);
            float[] rowScales = new float[s.m()];
            DeviceBuffer converted = device.bytes(convert(input, x, s.m(), s.k(), rowBytes, activationScale, rowScales));
            DeviceBuffer scales = input == Input.E4M3_PER_TOKEN ? device.floats(rowScales) : null;
            DeviceBuffer y = device.allocate((long) s.m() * s.n() * Float.BYTES);
            TensorMap xMap = device.map(TensorCoreGemm.activationSpec(input, converted, s.m(), s.k(), rowBytes));
            TensorMap wMap = device.map(TensorCoreGemm.weightSpec(weight));
            float scale = input == Input.E4M3_STATIC ? weightScale * activationScale : weightScale;
            KernelArgs args = TensorCoreGemm.arguments(new KernelArgs(arena, 8), xMap, wMap, y, scales, s.m(), weight, scale);
            device.launch(input.gemm, TensorCoreGemm.config(s.m(), s.n()), args, 2);
            float[] actual = device.run(emulatorBinary, work, y);

            Activation in = cpu.allocate(s.m(), s.k()), out = cpu.allocate(s.m(), s.n());
            float[] multiplied = GemmChecks.multiplied(s.mode(), x, s.m(), s.k());
            cpu.embed(cpu.weight(Tensor.ofFloats("x", new long[] {s.m(), s.k()}, multiplied)), IntStream.range(0, s.m()).toArray(), in);
            cpu.linear(in, cpu.linear(new Linear(w, weightScale, activationScale)), out);
            return BackendChecks.compare("linear tc (emulated)", s.toString(), seed, actual, BackendChecks.read(cpu, out), true,
                    s.mode().bound(), Double.NaN);
        }
    }

    /** The weight as WeightUpload lays it out: rows of {@code rowBytes}, zero padded. */
    private static byte[] deviceRows(Tensor w, int rows, long rowBytes, long usedBytes) {
        byte[] out = new byte[Math.toIntExact(rows * rowBytes)];
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(w.rowBytes(r), ValueLayout.JAVA_BYTE, 0, out, Math.toIntExact(r * rowBytes), Math.toIntExact(usedBytes));
        }
        return out;
    }

    /** What gemm_input_bf16 / _e4m3 / _e4m3_rows write: x in the input type, rows {@code rowBytes} apart. */
    private static byte[] convert(Input input, float[] x, int m, int k, long rowBytes, float activationScale, float[] rowScales) {
        byte[] out = new byte[Math.toIntExact(m * rowBytes)];
        for (int r = 0; r < m; r++) {
            float max = 0;
            for (int c = 0; c < k; c++) max = Math.max(max, Math.abs(x[r * k + c]));
            rowScales[r] = max > 0 ? max / 448f : 1f;
            for (int c = 0; c < k; c++) {
                float v = x[r * k + c];
                int at = Math.toIntExact(r * rowBytes) + c * (input == Input.BF16 ? 2 : 1);
                switch (input) {
                    case BF16 -> {
                        short bits = Floats.floatToBf16(v);
                        out[at] = (byte) bits;
                        out[at + 1] = (byte) (bits >> 8);
                    }
                    case E4M3_STATIC -> out[at] = Floats.floatToE4m3(v / activationScale);
                    case E4M3_PER_TOKEN -> out[at] = Floats.floatToE4m3(v / rowScales[r]);
                }
            }
        }
        return out;
    }
}
