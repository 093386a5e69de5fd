package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.weights.DType;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The block decoder against exact decoding, and every dot kernel giving each (row, token) the same bits. */
class DotKernelsTest {

    static Tensor randomRows(DType dtype, int rows, int n, SplittableRandom random) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[rows * n * dtype.bytes()]);
        for (int i = 0; i < rows * n; i++) {
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
        return Tensor.of("w", dtype, new long[] {rows, n}, bytes);
    }

    @ParameterizedTest(name = "{0} n={1}")
    @CsvSource({"F32,1", "F32,37", "F32,2048", "BF16,5", "BF16,33", "BF16,72", "BF16,5120", "F8_E4M3,3", "F8_E4M3,65",
            "F8_E4M3,200", "F8_E4M3,4096", "BF16,21", "F32,48", "F8_E4M3,112", "BF16,80", "F32,2050"})
    void blockDecodingIsExactAndEveryKernelGivesTheSameSumsBitwise(DType dtype, int n) {
        SplittableRandom random = new SplittableRandom(n * 31L + dtype.ordinal());
        Tensor weight = randomRows(dtype, 4, n, random);
        float[] block = new float[4 * n];
        RowBlockDecoder.decode(weight, 0, 4, block);
        float[] natural = weight.toFloatArray();
        assertThat(block).containsExactly(natural);

        float[] naturalX = new float[4 * n];
        for (int i = 0; i < naturalX.length; i++) naturalX[i] = (float) random.nextGaussian();
        float[] x = naturalX;
        int end = RowBlockDecoder.vectorEnd(n, CpuWeight.linear(weight, 1f, Float.NaN));
        float[] tile = new float[16], fusedTile = new float[16];
        float[] lanes = new float[DotKernels.LANES];
        StoredTiles.f32Tile3x4(MemorySegment.ofArray(block), 0, 4L * n, 8L * n, x, 0, n, end, tile, lanes);  // a q8/q4 group
        long c0 = weight.rowByteOffset(0), c1 = weight.rowByteOffset(1), c2 = weight.rowByteOffset(2), c3 = weight.rowByteOffset(3);
        switch (dtype) {  // the stored formats' own tiles: 3x4 on BF16 and F32, 4x4 on e4m3 (and 3x4 on its BF16 widening)
            case BF16 -> StoredTiles.bf16Tile3x4(weight.storage(), c0, c1, c2, x, 0, n, end, fusedTile, lanes);
            case F8_E4M3 -> FusedRows.e4m3Tile4x4(weight.storage(), c0, c1, c2, c3, x, 0, n, end, fusedTile, lanes);
            default -> StoredTiles.f32Tile3x4(weight.storage(), c0, c1, c2, x, 0, n, end, fusedTile, lanes);
        }
        float[] widenedTile = new float[16];
        if (dtype == DType.F8_E4M3) {
            MemorySegment widened = MemorySegment.ofArray(new short[4 * n]);
            RowBlockDecoder.e4m3ToBf16(weight, 0, 4, widened);
            for (int i = 0; i < 4 * n; i++) {
                assertThat(Floats.bf16ToFloat(widened.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i)))
                        .as("e4m3 weight %d widened to BF16 exactly", i).isEqualTo(natural[i]);
            }
            StoredTiles.bf16Tile3x4(widened, 0, 2L * n, 4L * n, x, 0, n, end, widenedTile, lanes);
        }
        for (int t = 0; t < 4; t++) {
            for (int r = 0; r < 4; r++) {
                float single = dot1(block, r * n, x, t * n, n, end, lanes);
                float fused = LinearKernel.fusedRow(CpuWeight.linear(weight, 1f, Float.NaN), r, x, t * n, n, end, lanes);
                if (r < 3) assertThat(tile[4 * r + t]).as("3x4 tile on the decoded block (%d, %d) equals dot1 bit for bit", r, t).isEqualTo(single);
                assertThat(fused).as("fused %s row %d equals dot1 bit for bit", dtype, r).isEqualTo(single);
                if (r < 3 || dtype == DType.F8_E4M3) {
                    assertThat(fusedTile[4 * r + t]).as("fused %s tile (%d, %d) equals dot1 bit for bit", dtype, r, t)
                            .isEqualTo(single);
                }
                if (r < 3 && dtype == DType.F8_E4M3) {
                    assertThat(widenedTile[4 * r + t]).as("3x4 tile on widened e4m3 (%d, %d) equals dot1 bit for bit", r, t)
                            .isEqualTo(single);
                }
                double exact = 0, magnitude = 0;
                for (int i = 0; i < n; i++) {
                    exact += (double) natural[r * n + i] * naturalX[t * n + i];
                    magnitude += Math.abs((double) natural[r * n + i] * naturalX[t * n + i]);
                }
                assertThat((double) single).isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-6));
            }
        }
    }

    /**
     * e4m3's two NaN codes (0x7F, 0xFF): the vector widening and the scalar tail treat them differently (a pre-existing
     * property of the format's kernels), so every e4m3 path must cover the same columns with vectors: the widened 3x4
     * tile, the 4x4 tile and the row kernel agree bit for bit, odd last chunks included.
     */
    @ParameterizedTest(name = "n={0}")
    @CsvSource({"48", "50", "112", "133"})
    void e4m3NanCodesGiveTheSameBitsOnEveryPath(int n) {
        SplittableRandom random = new SplittableRandom(n);
        Tensor weight = randomRows(DType.F8_E4M3, 4, n, random);
        for (int i = 0; i < 4 * n; i += 7) weight.storage().set(ValueLayout.JAVA_BYTE, i, (byte) (i % 2 == 0 ? 0x7F : 0xFF));
        float[] x = new float[4 * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        int end = RowBlockDecoder.vectorEnd(n, CpuWeight.linear(weight, 1f, Float.NaN));
        float[] lanes = new float[DotKernels.LANES], tile = new float[16], widenedTile = new float[16];
        MemorySegment w = weight.storage();
        FusedRows.e4m3Tile4x4(w, weight.rowByteOffset(0), weight.rowByteOffset(1), weight.rowByteOffset(2), weight.rowByteOffset(3),
                x, 0, n, end, tile, lanes);
        MemorySegment widened = MemorySegment.ofArray(new short[4 * n]);
        RowBlockDecoder.e4m3ToBf16(weight, 0, 4, widened);
        StoredTiles.bf16Tile3x4(widened, 0, 2L * n, 4L * n, x, 0, n, end, widenedTile, lanes);
        for (int r = 0; r < 3; r++) {
            for (int t = 0; t < 4; t++) {
                float row = LinearKernel.fusedRow(CpuWeight.linear(weight, 1f, Float.NaN), r, x, t * n, n, end, lanes);
                assertThat(Float.floatToRawIntBits(tile[4 * r + t])).as("4x4 (%d, %d)", r, t).isEqualTo(Float.floatToRawIntBits(row));
                assertThat(Float.floatToRawIntBits(widenedTile[4 * r + t])).as("widened 3x4 (%d, %d)", r, t)
                        .isEqualTo(Float.floatToRawIntBits(row));
            }
        }
    }

    private static final int L = DotKernels.F.length();

    /** The order of {@link DotKernels} written plainly on float arrays: the reference every kernel must equal. */
    private static float dot1(float[] w, int w0, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        FloatVector a0 = FloatVector.zero(DotKernels.F), a1 = a0;
        int i = 0;
        for (; i + 4 * L <= vectorEnd; i += 4 * L) {
            a0 = FloatVector.fromArray(DotKernels.F, w, w0 + i).fma(FloatVector.fromArray(DotKernels.F, x, x0 + i), a0);
            a1 = FloatVector.fromArray(DotKernels.F, w, w0 + i + L).fma(FloatVector.fromArray(DotKernels.F, x, x0 + i + L), a1);
            a0 = FloatVector.fromArray(DotKernels.F, w, w0 + i + 2 * L).fma(FloatVector.fromArray(DotKernels.F, x, x0 + i + 2 * L), a0);
            a1 = FloatVector.fromArray(DotKernels.F, w, w0 + i + 3 * L).fma(FloatVector.fromArray(DotKernels.F, x, x0 + i + 3 * L), a1);
        }
        if (i < vectorEnd) {
            a0 = FloatVector.fromArray(DotKernels.F, w, w0 + i).fma(FloatVector.fromArray(DotKernels.F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = FloatVector.fromArray(DotKernels.F, w, w0 + i).fma(FloatVector.fromArray(DotKernels.F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) a0 = FloatVector.fromArray(DotKernels.F, w, w0 + i).fma(FloatVector.fromArray(DotKernels.F, x, x0 + i), a0);
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        return tail(w, w0, x, x0, vectorEnd, n, LaneSums.sum1(lanes));
    }

    /** Adds the scalar tail {@code [from, n)} to a lane sum. */
    private static float tail(float[] w, int w0, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }
}
