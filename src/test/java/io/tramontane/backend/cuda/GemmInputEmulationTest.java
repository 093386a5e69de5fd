package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.cuda.TensorCoreGemm.Input;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.weights.Floats;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensor-core GEMM's input conversions (gemm_input_core.cuh) without a GPU: launches as TensorCoreGemm builds them,
 * run by {@link KernelEmulator}, against the CPU's conversions byte for byte: BF16 rounding to nearest even
 * ({@link Floats#floatToBf16}), static w8a8 e4m3(x / scale) and per-row e4m3 with scale max|x| / 448 (the scales too)
 * ({@link Floats#floatToE4m3}: nearest even, saturated). Rows of k % 4 == 0 (float4 path, several steps a thread and a
 * partial last one) and odd k (scalar path); values that saturate, an all-zero row (scale 1), negative zeros.
 * Skipped, visibly, without g++.
 */
class GemmInputEmulationTest {

    @BeforeEach
    void needsGxx() {
        EmulatorBuild.assumeBuilt(KernelEmulator.binary(), "GemmInputEmulationTest");
    }

    static Stream<Arguments> cases() {
        return Stream.of(Input.values()).flatMap(input -> Stream.of(Arguments.of(input, 3, 5120), Arguments.of(input, 4, 1028),
                Arguments.of(input, 2, 301), Arguments.of(input, 3, 4)));
    }

    @ParameterizedTest(name = "{0} {1}x{2}")
    @MethodSource("cases")
    void conversionMatchesTheCpuByteForByte(Input input, int m, int k, @TempDir Path work) throws Exception {
        assertThat(mismatch(new KernelEmulator(), input, m, k, work)).isNull();
    }

    static Stream<Arguments> brokenVariants() {
        return Stream.of(
                Arguments.of("packed stores a quad short", "Ops::store4(dst + 4 * q, out);", "Ops::store4(dst + 4 * (q - q % 2), out);"),
                Arguments.of("the row maximum of warp 0 alone", "for (int w = 1; w < THREADS / 32; w++)", "for (int w = 1; w < 1; w++)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenVariants")
    void brokenVariantsFail(String name, String original, String broken, @TempDir Path work) throws Exception {
        String source = java.nio.file.Files.readString(CudaToolkit.repositoryRoot().resolve("cuda-kernels/gemm_input_core.cuh"));
        assertThat(source).contains(original);
        Path emulator = KernelEmulator.withCore("gemm_input_core.cuh", source.replace(original, broken), work).orElseThrow();
        String why = mismatch(new KernelEmulator(emulator), Input.E4M3_PER_TOKEN, 3, 5120, work);
        System.err.println("GemmInputEmulationTest: '" + name + "' caught: " + why);
        assertThat(why).isNotNull();
    }

    /** Null when the emulated conversion of an m x k input matches the CPU's byte for byte; otherwise the first difference. */
    static String mismatch(KernelEmulator device, Input input, int m, int k, Path work) throws Exception {
        SplittableRandom random = new SplittableRandom(20261126L + 31L * k + m + input.ordinal());
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble(-3, 3);
        for (int c = 0; c < k; c++) x[k + c] = 0f;  // row 1: all zero (scale 1)
        x[k] = -0f;
        x[0] = 2000f;  // saturates under the static scale
        if (m > 2) x[3 * k - 1] = 5f;  // row 2's maximum is the last thread's (the CTA's maximum must reach warp 0)
        float staticScale = 0.5f;
        WeightFormat format = input == Input.BF16 ? WeightFormat.BF16 : WeightFormat.E4M3;
        long stride = format.stride(k), rowBytes = stride * format.bytes;
        CudaWeight w = new CudaWeight(device.allocate(8 * rowBytes), format, 8, k, stride, 1f,
                input == Input.E4M3_STATIC ? staticScale : Float.NaN);
        if (Input.of(w) != input) throw new IllegalStateException(input + " from " + w);
        DeviceBuffer xs = device.floats(x), out = device.allocate(m * rowBytes), scales = device.allocate(4L * m);
        device.launch(TensorCoreGemm.conversionKernel(w), TensorCoreGemm.inputConfig(m, k),
                args -> TensorCoreGemm.inputArguments(args, input, xs, out, input == Input.E4M3_PER_TOKEN ? scales : null, m, k, w));
        List<float[]> got = device.run(work, List.of(out, scales));
        byte[] bytes = bytes(got.get(0));

        for (int r = 0; r < m; r++) {
            float scale = input == Input.E4M3_STATIC ? staticScale : rowScale(x, r, k);
            if (input == Input.E4M3_PER_TOKEN && Float.floatToRawIntBits(got.get(1)[r]) != Float.floatToRawIntBits(scale)) {
                return "row " + r + "'s scale " + got.get(1)[r] + ", expected " + scale;
            }
            for (int c = 0; c < k; c++) {
                float v = x[r * k + c];
                if (input == Input.BF16) {
                    short expected = Floats.floatToBf16(v);
                    int at = (int) (r * rowBytes + 2L * c);
                    short actual = (short) ((bytes[at] & 0xff) | bytes[at + 1] << 8);
                    if (actual != expected) return "row " + r + " column " + c + " (" + v + "): " + actual + ", expected " + expected;
                } else {
                    byte actual = bytes[(int) (r * rowBytes + c)], expected = Floats.floatToE4m3(v / scale);
                    if (actual != expected) return "row " + r + " column " + c + " (" + v + "): " + actual + ", expected " + expected;
                }
            }
        }
        return null;
    }

    /** max |x[r, :]| / 448, or 1 for an all-zero row. */
    private static float rowScale(float[] x, int r, int k) {
        float max = 0f;
        for (int c = 0; c < k; c++) max = Math.max(max, Math.abs(x[r * k + c]));
        return max > 0f ? max / 448f : 1f;
    }

    private static byte[] bytes(float[] words) {
        byte[] out = new byte[4 * words.length];
        for (int i = 0; i < words.length; i++) {
            int bits = Float.floatToRawIntBits(words[i]);
            for (int b = 0; b < 4; b++) out[4 * i + b] = (byte) (bits >>> (8 * b));
        }
        return out;
    }
}
