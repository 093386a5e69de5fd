package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.Weight;
import io.tramontane.weights.DType;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link CpuBackend#linear} on quantized weights against a float64 dot over the dequantized values (q4: with the
 * dequantized int8 activations), for 1..40 and 70 tokens (q8: the fused decode kernels below 16 tokens, from 16 the
 * prefill tiles on row groups decoded to FP32, several groups for [60, 2080], two token panels for 70 tokens of
 * [4, 30016]; q4: rows and 4x4 tiles, several row groups for [60, 2080] and [4, 30016]) and 1..3 threads; each
 * token's logits identical, bit for bit, whichever path and batch computed them; and q4's bits those of the order
 * {@link Q4Rows} documents.
 */
class QuantizedLinearTest {

    static Stream<Arguments> formatsThreadsAndShapes() {
        return Stream.of(CpuWeights.Q8, CpuWeights.Q4).flatMap(format -> IntStream.rangeClosed(1, 3).boxed()
                .flatMap(threads -> Stream.of(new int[] {37, 64}, new int[] {24, 100}, new int[] {9, 2048}, new int[] {6, 2080},
                        new int[] {60, 2080}, new int[] {4, 30016})
                        .map(shape -> Arguments.of(format, threads, shape[0], shape[1]))));
    }

    @ParameterizedTest(name = "{0}, {1} threads, [{2}, {3}]")
    @MethodSource("formatsThreadsAndShapes")
    void matchesFloat64DotOverDequantizedWeightsForOneToFortyTokensAndSeventy(CpuWeights format, int threads, int out, int in) {
        SplittableRandom random = new SplittableRandom(format.ordinal() * 100L + threads * 10L + in);
        Tensor tensor = QuantizedWeights.random("w", out, in, random);
        try (CpuBackend backend = new CpuBackend(new CpuBackend.Options(threads, true, format))) {
            Weight weight = backend.linear(Linear.of(tensor));
            QuantizedMatrix m = CpuWeight.of(weight).quantized();
            float[] all = new float[70 * in];
            for (int i = 0; i < all.length; i++) all[i] = (float) random.nextGaussian();
            float[][] alone = new float[70][];
            for (int t = 0; t < 70; t++) alone[t] = linear(backend, weight, Arrays.copyOfRange(all, t * in, (t + 1) * in), out);
            double[] inputs = new double[all.length];  // as the kernels take them: q4 rounds them to int8 blocks
            for (int i = 0; i < all.length; i++) {
                float[] a = format == CpuWeights.Q4 ? QuantizedWeights.activation(all, i / in * in, in, i % in) : null;
                inputs[i] = a != null ? (double) a[0] * a[1] : all[i];
            }
            for (int tokens : IntStream.concat(IntStream.rangeClosed(1, 40), IntStream.of(70)).toArray()) {  // 70: two panels
                float[] y = linear(backend, weight, Arrays.copyOf(all, tokens * in), out);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < out; r++) {
                        double exact = 0, magnitude = 0;
                        for (int i = 0; i < in; i++) {
                            double p = QuantizedWeights.weight(m, r, i) * inputs[t * in + i];
                            exact += p;
                            magnitude += Math.abs(p);
                        }
                        assertThat((double) y[t * out + r]).as("%d tokens: token %d row %d", tokens, t, r)
                                .isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-30));
                        assertThat(y[t * out + r]).as("%d tokens: token %d row %d equals the token alone, bit for bit",
                                tokens, t, r).isEqualTo(alone[t][r]);
                        if (format == CpuWeights.Q4 && tokens == 70 && (t % 9 == 0 || t == 69)) {
                            assertThat(y[t * out + r]).as("token %d row %d: the documented order, bit for bit", t, r)
                                    .isEqualTo(QuantizedWeights.q4Dot(m, r, all, t * in));
                        }
                    }
                }
            }
        }
    }

    /** Static w8a8 on quantized weights: inputs rounded to e4m3 at the activation scale, as with stored FP8 (q4: then to int8). */
    @ParameterizedTest
    @EnumSource(value = CpuWeights.class, names = {"Q8", "Q4"})
    void quantizesActivationsToE4m3WhenTheCheckpointSaysSo(CpuWeights format) {
        SplittableRandom random = new SplittableRandom(3);
        int out = 8, in = 64;
        MemorySegment bytes = MemorySegment.ofArray(new byte[out * in]);
        for (int i = 0; i < out * in; i++) bytes.set(ValueLayout.JAVA_BYTE, i, Floats.floatToE4m3((float) random.nextGaussian() * 40));
        Tensor e4m3 = Tensor.of("fp8", DType.F8_E4M3, new long[] {out, in}, bytes);
        float weightScale = 0.01f, activationScale = 0.05f;
        try (CpuBackend backend = new CpuBackend(new CpuBackend.Options(2, true, format))) {
            Weight weight = backend.linear(new Linear(e4m3, weightScale, activationScale));
            QuantizedMatrix m = CpuWeight.of(weight).quantized();
            float[] x = new float[3 * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
            float[] y = linear(backend, weight, x, out);
            float[] e4m3Inputs = new float[x.length];
            for (int i = 0; i < x.length; i++) e4m3Inputs[i] = Floats.e4m3ToFloat(Floats.floatToE4m3(x[i] / activationScale));
            for (int t = 0; t < 3; t++) {
                for (int r = 0; r < out; r++) {
                    double exact = 0, magnitude = 0;
                    for (int i = 0; i < in; i++) {
                        float[] a = QuantizedWeights.activation(e4m3Inputs, t * in, in, i);
                        double xq = format == CpuWeights.Q4 ? (double) a[0] * a[1] : e4m3Inputs[t * in + i];
                        exact += QuantizedWeights.weight(m, r, i) * xq;
                        magnitude += Math.abs(QuantizedWeights.weight(m, r, i) * xq);
                    }
                    assertThat((double) y[t * out + r]).as("token %d row %d", t, r)
                            .isCloseTo(exact * activationScale, org.assertj.core.data.Offset.offset(1e-5 * magnitude * activationScale));
                }
            }
        }
    }

    /** A w8a8 linear's e4m3 input lives in per-thread scratch: a decode step does not allocate a copy per linear. */
    @Test
    void staticFp8InputsAllocateNoCopyPerCall() {
        int out = 64, in = 4096;
        MemorySegment bytes = MemorySegment.ofArray(new byte[out * in]);
        Tensor e4m3 = Tensor.of("fp8", DType.F8_E4M3, new long[] {out, in}, bytes);
        var bean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (CpuBackend backend = new CpuBackend(new CpuBackend.Options(1, true))) {
            Weight weight = backend.linear(new Linear(e4m3, 0.01f, 0.05f));
            var x = backend.allocate(1, in);
            var y = backend.allocate(1, out);
            for (int i = 0; i < 5000; i++) backend.linear(x, weight, y);  // compiled: interpreted Vector API code allocates
            long before = bean.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 100; i++) backend.linear(x, weight, y);
            long perCall = (bean.getCurrentThreadAllocatedBytes() - before) / 100;
            // a copy of the input would be 16 KB; what remains is under 1 KB run alone and ~1.3 KB after the class's other
            // tests (their profiles change what C2 scalar-replaces), not a copy
            assertThat(perCall).as("bytes allocated per call (a copy of the input would be %d)", 4 * in).isLessThan(in);
        }
    }

    private static float[] linear(CpuBackend backend, Weight weight, float[] x, int out) {
        int in = (int) weight.cols(), tokens = x.length / in;
        CpuActivation input = (CpuActivation) backend.allocate(tokens, in), output = (CpuActivation) backend.allocate(tokens, out);
        System.arraycopy(x, 0, input.data(), 0, x.length);
        Arrays.fill(output.data(), Float.NaN);
        backend.linear(input, weight, output);
        return output.data();
    }
}
