package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Weight;
import io.tramontane.weights.DType;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link CpuBackend#linear} on stored weights through every path of {@link LinearKernel}: fused rows for one token,
 * the stored-row tiles (BF16 5x4, e4m3 6x4) for 12 tokens, the prefill tiles (BF16 and e4m3 5x4, F32 6x4) for 12 F32
 * tokens and for 70 (row groups, several of them for 400 and 120 rows; e4m3 at 1043 columns widens an odd last chunk;
 * two token panels at 30001 and 30040 columns; leftover rows and tokens); each token's outputs identical, bit for bit,
 * to the token computed alone.
 */
class StoredLinearPathsTest {

    @ParameterizedTest(name = "{0} [{1}, {2}]")
    @CsvSource({"BF16,9,1000", "BF16,9,2100", "F8_E4M3,6,2052", "F8_E4M3,7,333", "F32,5,2049", "F32,6,64",
            "BF16,400,1030", "F8_E4M3,400,1043", "F32,120,1030", "BF16,7,30001", "F8_E4M3,5,30040"})
    void everyPathGivesEachTokenTheBitsItGetsAlone(DType dtype, int out, int in) {
        SplittableRandom random = new SplittableRandom(in * 7L + dtype.ordinal());
        Tensor tensor = DotKernelsTest.randomRows(dtype, out, in, random);
        try (CpuBackend backend = new CpuBackend(new CpuBackend.Options(2, true))) {
            Weight weight = backend.linear(Linear.of(tensor));
            int tokens = 70;  // a partial quad; at 30001 and 30040 columns two token panels (68 tokens, then 2)
            float[] x = new float[tokens * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
            float[] all = linear(backend, weight, x, tokens, in, out);
            float[] batch = linear(backend, weight, Arrays.copyOf(x, 12 * in), 12, in, out);  // BF16, e4m3: the stored tiles
            float[] natural = tensor.toFloatArray();
            for (int t = 0; t < tokens; t++) {
                float[] alone = linear(backend, weight, Arrays.copyOfRange(x, t * in, (t + 1) * in), 1, in, out);
                for (int r = 0; r < out; r++) {
                    assertThat(all[t * out + r]).as("token %d row %d of 70 equals the token alone", t, r).isEqualTo(alone[r]);
                    if (t < 12) assertThat(batch[t * out + r]).as("token %d row %d of 12 equals the token alone", t, r).isEqualTo(alone[r]);
                    double exact = 0, magnitude = 0;
                    for (int i = 0; i < in; i++) {
                        double p = (double) natural[r * in + i] * x[t * in + i];
                        exact += p;
                        magnitude += Math.abs(p);
                    }
                    assertThat((double) alone[r]).isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-6));
                }
            }
        }
    }

    /**
     * BF16 tiles read stored rows where they lie evenly spaced and copy a permuted view's rows first: a permuted and a
     * row-range view give each row the bits the whole tensor gives it, and a column range (strided rows starting off
     * alignment) the bits of a contiguous copy of it, on every path (1, 12 and 70 tokens).
     */
    @ParameterizedTest(name = "tokens={0}")
    @CsvSource({"1", "12", "70"})
    void bf16ViewsGiveTheirRowsTheBitsOfTheWholeTensor(int tokens) {
        int out = 64, in = 1000;
        SplittableRandom random = new SplittableRandom(tokens);
        Tensor tensor = DotKernelsTest.randomRows(DType.BF16, out, in, random);
        int[] order = IntStream.range(0, out).map(r -> (r % 2 == 0 ? r + 1 : r - 1) ^ (r < 32 ? 0 : 7)).toArray();
        try (CpuBackend backend = new CpuBackend(new CpuBackend.Options(2, true))) {
            float[] x = new float[tokens * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
            float[] whole = linear(backend, backend.linear(Linear.of(tensor)), x, tokens, in, out);
            float[] permuted = linear(backend, backend.linear(Linear.of(tensor.permuteRows(order))), x, tokens, in, out);
            float[] range = linear(backend, backend.linear(Linear.of(tensor.rowRange(3, 58))), x, tokens, in, 55);
            Tensor columns = tensor.columnRange(5, 5 + 600);  // a tensor-parallel shard's rows: strided, unaligned
            float[] xc = new float[tokens * 600];
            for (int t = 0; t < tokens; t++) System.arraycopy(x, t * in + 5, xc, t * 600, 600);
            float[] sliced = linear(backend, backend.linear(Linear.of(columns)), xc, tokens, 600, out);
            MemorySegment contiguous = MemorySegment.ofArray(new byte[out * 1200]);
            for (int r = 0; r < out; r++) MemorySegment.copy(columns.rowBytes(r), 0, contiguous, r * 1200L, 1200);
            float[] copied = linear(backend, backend.linear(Linear.of(Tensor.of("c", DType.BF16, new long[] {out, 600}, contiguous))),
                    xc, tokens, 600, out);
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < out; r++) {
                    assertThat(permuted[t * out + r]).as("token %d row %d of the permuted view", t, r).isEqualTo(whole[t * out + order[r]]);
                    if (r < 55) assertThat(range[t * 55 + r]).as("token %d row %d of the row range", t, r).isEqualTo(whole[t * out + 3 + r]);
                    assertThat(sliced[t * out + r]).as("token %d row %d of the column range", t, r).isEqualTo(copied[t * out + r]);
                }
            }
        }
    }

    /**
     * {@code --cpu-weights copied}: the whole tensor, a permuted view, a row range and a column range, each copied
     * contiguous onto the backend's 2 MB pages, give every token the bits the stored view gives it, on every path; the
     * 1100-row tensors (over 2 MB) take a mapping of their own.
     */
    @ParameterizedTest(name = "{0} [{1}, {2}], tokens={3}")
    @CsvSource({"BF16,64,1000,1", "BF16,64,1000,12", "BF16,1100,1030,70", "F8_E4M3,1100,2048,1", "F8_E4M3,64,2052,12",
            "F8_E4M3,64,1043,70", "F32,64,1030,12", "F32,64,1030,70"})
    void copiedViewsGiveEveryTokenTheBitsOfTheStoredOnes(DType dtype, int out, int in, int tokens) {
        SplittableRandom random = new SplittableRandom(out * 31L + in + tokens);
        Tensor tensor = DotKernelsTest.randomRows(dtype, out, in, random);
        int[] order = IntStream.range(0, out).map(r -> out - 1 - r).toArray();
        int columns = in / 2;
        Tensor[] views = {tensor, tensor.permuteRows(order), tensor.rowRange(3, out - 5), tensor.columnRange(7, 7 + columns)};
        float[] x = new float[tokens * in];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        float[] xc = new float[tokens * columns];
        for (int t = 0; t < tokens; t++) System.arraycopy(x, t * in + 7, xc, t * columns, columns);
        try (CpuBackend stored = new CpuBackend(new CpuBackend.Options(2, true));
             CpuBackend copied = new CpuBackend(new CpuBackend.Options(2, true, CpuWeights.COPIED))) {
            for (Tensor view : views) {
                int rows = (int) view.rows(), cols = (int) view.cols();
                float[] input = cols == in ? x : xc;
                float[] expected = linear(stored, stored.linear(Linear.of(view)), input, tokens, cols, rows);
                float[] actual = linear(copied, copied.linear(Linear.of(view)), input, tokens, cols, rows);
                for (int i = 0; i < expected.length; i++) {
                    assertThat(actual[i]).as("%s: token %d row %d", view, i / rows, i % rows).isEqualTo(expected[i]);
                }
            }
        }
    }

    /**
     * A stored linear on the Java heap (a library user's {@code Tensor.ofFloats}) is copied off it: the kernels read
     * native memory only ({@link CpuWeight#linear} refuses the heap, naming the tensor). Its outputs are the native
     * tensor's, bit for bit, on every path.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"BF16", "F8_E4M3", "F32"})
    void aLinearOnTheHeapIsCopiedOffItWithTheSameOutputs(DType dtype) {
        int out = 13, in = 300;
        SplittableRandom random = new SplittableRandom(dtype.ordinal());
        Tensor offHeap = DotKernelsTest.randomRows(dtype, out, in, random);
        MemorySegment bytes = MemorySegment.ofArray(new byte[(int) offHeap.storage().byteSize()]).copyFrom(offHeap.storage());
        Tensor heap = Tensor.of("layers.0.feed_forward.w1.weight", dtype, new long[] {out, in}, bytes);
        assertThatThrownBy(() -> CpuWeight.linear(heap, 1f, Float.NaN)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layers.0.feed_forward.w1.weight").hasMessageContaining("Java heap");
        try (CpuBackend backend = new CpuBackend(new CpuBackend.Options(2, true))) {
            Weight copied = backend.linear(Linear.of(heap)), stored = backend.linear(Linear.of(offHeap));
            assertThat(CpuWeight.of(copied).tensor().storage().isNative()).isTrue();
            for (int tokens : new int[] {1, 8, 70}) {
                float[] x = new float[tokens * in];
                for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
                assertThat(linear(backend, copied, x, tokens, in, out)).as("%d tokens", tokens)
                        .containsExactly(linear(backend, stored, x, tokens, in, out));
            }
        }
    }

    static float[] linear(CpuBackend backend, Weight weight, float[] x, int tokens, int in, int out) {
        Activation input = backend.allocate(tokens, in), output = backend.allocate(tokens, out);
        backend.embed(backend.weight(Tensor.ofFloats("x", new long[] {tokens, in}, x)), IntStream.range(0, tokens).toArray(), input);
        backend.linear(input, weight, output);
        float[] result = new float[tokens * out], row = new float[out];
        for (int t = 0; t < tokens; t++) {
            backend.readRow(output, t, row);
            System.arraycopy(row, 0, result, t * out, out);
        }
        return result;
    }
}
