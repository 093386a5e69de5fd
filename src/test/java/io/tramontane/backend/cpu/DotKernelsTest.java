package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.weights.DType;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fused-dequantization dot kernels against exact decoding, and their batch invariance. */
class DotKernelsTest {

    static Tensor randomRow(DType dtype, int n, SplittableRandom random) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[n * dtype.bytes()]);
        for (int i = 0; i < n; i++) {
            float v = (float) (random.nextGaussian() * 2);
            switch (dtype) {
                case F32 -> bytes.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, v);
                case BF16 -> bytes.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i,
                        Floats.floatToBf16(v));
                default -> {
                    byte b = (byte) random.nextInt(256);  // every e4m3 code but the two NaNs, subnormals included
                    bytes.set(ValueLayout.JAVA_BYTE, i, (b & 0x7F) == 0x7F ? 0x7E : b);
                }
            }
        }
        return Tensor.of("row", dtype, new long[] {1, n}, bytes);
    }

    @ParameterizedTest(name = "{0} n={1}")
    @CsvSource({"F32,1", "F32,37", "F32,2048", "BF16,5", "BF16,33", "BF16,5120", "F8_E4M3,3", "F8_E4M3,65", "F8_E4M3,4096"})
    void fusedDecodeMatchesExactDecodingAndDot4EqualsDot1Bitwise(DType dtype, int n) {
        SplittableRandom random = new SplittableRandom(n * 31L + dtype.ordinal());
        Tensor row = randomRow(dtype, n, random);
        float[] decoded = row.toFloatArray();
        float[] x = new float[4 * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        var format = new CpuWeight(row, 1f, Float.NaN).format();
        float[] sums = new float[4];
        DotKernels.dot4(format, row.storage(), row.rowByteOffset(0), x, 0, n, 2 * n, 3 * n, n, sums);
        for (int t = 0; t < 4; t++) {
            float single = DotKernels.dot1(format, row.storage(), row.rowByteOffset(0), x, t * n, n);
            assertThat(sums[t]).as("dot4 lane %d equals dot1 bit for bit", t).isEqualTo(single);
            double exact = 0, magnitude = 0;
            for (int i = 0; i < n; i++) {
                exact += (double) decoded[i] * x[t * n + i];
                magnitude += Math.abs((double) decoded[i] * x[t * n + i]);
            }
            assertThat((double) single).isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-6));
        }
    }
}
