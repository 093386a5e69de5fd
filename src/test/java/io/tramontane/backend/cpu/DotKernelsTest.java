package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.weights.DType;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The block decoder against exact decoding, and every dot kernel giving each (row, token) the same bits. */
class DotKernelsTest {

    static Tensor randomRows(DType dtype, int rows, int n, SplittableRandom random) {
        MemorySegment bytes = Arena.ofAuto().allocate((long) rows * n * dtype.bytes(), 64);  // native, as the kernels take
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
    @CsvSource({"F32,1", "F32,37", "BF16,112", "BF16,104", "BF16,48", "F8_E4M3,96", "F8_E4M3,40", "F32,2048", "BF16,5", "BF16,33", "BF16,72", "BF16,5120", "F8_E4M3,3", "F8_E4M3,65",
            "F8_E4M3,200", "F8_E4M3,4096", "BF16,21", "F32,48", "F8_E4M3,112", "BF16,80", "F32,2050", "BF16,16", "F32,96"})
    void blockDecodingIsExactAndEveryKernelGivesTheSameSumsBitwise(DType dtype, int n) {
        SplittableRandom random = new SplittableRandom(n * 31L + dtype.ordinal());
        Tensor weight = randomRows(dtype, 6, n, random);
        float[] block = new float[6 * n];
        RowBlockDecoder.decode(weight, 0, 6, block);
        float[] natural = weight.toFloatArray();
        assertThat(block).containsExactly(natural);

        float[] x = new float[4 * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        int end = RowBlockDecoder.vectorEnd(n, CpuWeight.linear(weight, 1f, Float.NaN));
        float[] tile = new float[LaneSums.TILE_SUMS], fusedTile = new float[LaneSums.TILE_SUMS];
        int from = 3;  // the tiles' accumulators from lanes[from] (64-byte aligned, in the kernels)
        float[] lanes = new float[DotKernels.LANES + ArrayAlignment.SLACK];
        CpuWeight cpu = CpuWeight.linear(weight, 1f, Float.NaN);
        float[] unsplit = new float[6 * n];  // the split copy a prefill row group's tiles read, back in natural order
        float[] splitX = new float[4 * n];  // the tokens as the kernels of this dtype read them
        RowBlockDecoder.arrangeTokens(cpu, x, 0, 4, n, end, splitX, 0);
        boolean words = dtype == DType.BF16;
        float[] xk = words ? splitX : x;  // BF16 rows read every token in the word layout, the others decode natural tokens
        long[] c = new long[6];
        for (int r = 0; r < 6; r++) c[r] = weight.rowByteOffset(r);
        if (dtype == DType.F32) {  // FP32 tiles (q8 groups too: QuantizedLinearTest)
            MemorySegment split = Arena.ofAuto().allocate(4L * 6 * n, 64);
            RowBlockDecoder.fp32Split(cpu, 0, 6, split);
            for (int i = 0; i < 6 * n; i++) unsplit[i] = split.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, splitIndex(i, n, end));
            StoredTiles.f32Tile6x4(split, 0, 4L * n, 8L * n, 12L * n, 16L * n, 20L * n, splitX, 0, n, end, tile, lanes, from);
        } else if (words) {  // BF16 tiles of five rows read the stored rows; the sixth row is left to the row kernel
            System.arraycopy(natural, 0, unsplit, 0, 6 * n);
            StoredTiles.bf16Tile5x4(weight.storage(), c[0], c[1] - c[0], splitX, 0, n, end, StoredTiles.wordChain1(end), tile, lanes,
                    from);
            System.arraycopy(tile, 0, fusedTile, 0, LaneSums.TILE_SUMS);
        } else {  // e4m3 rows widened to BF16 (exactly) for the five-row tiles; the sixth row checks the copy's row stride
            MemorySegment split = Arena.ofAuto().allocate(2L * 6 * n, 64);
            RowBlockDecoder.e4m3Split(weight, 0, 6, split);
            for (int i = 0; i < 6 * n; i++) {
                unsplit[i] = Floats.bf16ToFloat(split.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, pairedIndex(i, n, end)));
            }
            StoredTiles.bf16Tile5x4(split, 0, 2L * n, splitX, 0, n, end, StoredTiles.pairedChain1(end), tile, lanes, from);
            FusedRows.e4m3Tile6x4(weight.storage(), c[0], c[1], c[2], c[3], c[4], c[5], x, 0, n, end, fusedTile, lanes, from);  // 4-15 tokens
        }
        int tileRows = dtype == DType.F32 ? 6 : 5;
        assertThat(unsplit).as("the split copy holds every weight exactly").containsExactly(natural);
        for (int i = 0; i < 4 * n; i++) {
            int at = words ? wordIndex(i, n, end) : splitIndex(i, n, end);
            assertThat(splitX[at]).as("arranged token feature %d", i).isEqualTo(x[i]);
        }
        for (int t = 0; t < 4; t++) {
            for (int r = 0; r < 6; r++) {
                float single = words ? dotWords(block, r * n, x, t * n, n, end) : dot1(block, r * n, x, t * n, n, end);
                float fused = LinearKernel.fusedRow(cpu, r, xk, t * n, n, end);
                assertThat(fused).as("fused %s row %d equals the documented order bit for bit", dtype, r).isEqualTo(single);
                if (r < tileRows) {
                    assertThat(tile[4 * r + t]).as("prefill tile on the %s rows (%d, %d)", dtype, r, t).isEqualTo(single);
                }
                if (dtype != DType.F32 && r < (words ? 5 : 6)) {
                    assertThat(fusedTile[4 * r + t]).as("%s tile on the stored rows (%d, %d)", dtype, r, t).isEqualTo(single);
                }
                double exact = 0, magnitude = 0;
                for (int i = 0; i < n; i++) {
                    exact += (double) natural[r * n + i] * x[t * n + i];
                    magnitude += Math.abs((double) natural[r * n + i] * x[t * n + i]);
                }
                assertThat((double) single).isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-6));
            }
        }
    }

    /**
     * Decode-shaped calls that stream BF16 or F32 rows two at a time ({@link RowPairs}) give every (row, token) the bits of
     * the documented order, as one row at a time does: odd row counts (a last unpaired row), odd chunk counts and
     * scalar tails, one to three tokens.
     */
    @ParameterizedTest(name = "{0} n={1} rows={2} tokens={3}")
    @CsvSource({"BF16,2048,37,1", "BF16,72,16,2", "BF16,48,17,3", "BF16,5,3,1", "BF16,2050,33,1", "F32,2048,21,1",
            "F32,80,15,3", "F32,37,2,2", "F32,16,1,1"})
    void pairedRowsGiveTheBitsOfTheDocumentedOrder(DType dtype, int n, int rows, int tokens) {
        SplittableRandom random = new SplittableRandom(n * 131L + rows);
        Tensor weight = randomRows(dtype, rows, n, random);
        CpuWeight cpu = CpuWeight.linear(weight, 1f, Float.NaN);
        float[] x = new float[tokens * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        float[] paired = new float[tokens * rows], single = new float[tokens * rows];
        int end = RowBlockDecoder.vectorEnd(n, cpu);
        int start = 1 + tokens;  // arranged tokens start past where the buffer does (64-byte aligned, in the backend)
        float[] arranged = new float[start + tokens * n];
        RowBlockDecoder.arrangeTokens(cpu, x, 0, tokens, n, end, arranged, start);
        float[] split = LinearKernel.takesSplitTokens(cpu, tokens) ? arranged : null;
        LinearKernel.rows(cpu, x, split, start, tokens, n, 0, rows, 1f, paired, rows, true);
        LinearKernel.rows(cpu, x, split, start, tokens, n, 0, rows, 1f, single, rows, false);
        float[] natural = weight.toFloatArray();
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                float expected = dtype == DType.BF16 ? dotWords(natural, r * n, x, t * n, n, end) : dot1(natural, r * n, x, t * n, n, end);
                assertThat(Float.floatToRawIntBits(paired[t * rows + r])).as("paired (%d, %d)", r, t)
                        .isEqualTo(Float.floatToRawIntBits(expected));
                assertThat(Float.floatToRawIntBits(single[t * rows + r])).as("single (%d, %d)", r, t)
                        .isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }

    /**
     * e4m3's two NaN codes (0x7F, 0xFF): the vector widening and the scalar tail treat them differently (a pre-existing
     * property of the format's kernels), so every e4m3 path must cover the same columns with vectors: the widened
     * tile, the e4m3 tile and the row kernel agree bit for bit, odd chunk counts included.
     */
    @ParameterizedTest(name = "n={0}")
    @CsvSource({"48", "50", "112", "133"})
    void e4m3NanCodesGiveTheSameBitsOnEveryPath(int n) {
        SplittableRandom random = new SplittableRandom(n);
        Tensor weight = randomRows(DType.F8_E4M3, 6, n, random);
        for (int i = 0; i < 6 * n; i += 7) weight.storage().set(ValueLayout.JAVA_BYTE, i, (byte) (i % 2 == 0 ? 0x7F : 0xFF));
        float[] x = new float[4 * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        int end = RowBlockDecoder.vectorEnd(n, CpuWeight.linear(weight, 1f, Float.NaN));
        float[] lanes = new float[DotKernels.LANES], tile = new float[LaneSums.TILE_SUMS], widenedTile = new float[LaneSums.TILE_SUMS];
        MemorySegment w = weight.storage();
        FusedRows.e4m3Tile6x4(w, weight.rowByteOffset(0), weight.rowByteOffset(1), weight.rowByteOffset(2), weight.rowByteOffset(3),
                weight.rowByteOffset(4), weight.rowByteOffset(5), x, 0, n, end, tile, lanes, 0);
        MemorySegment widened = Arena.ofAuto().allocate(2L * 6 * n, 64);
        RowBlockDecoder.e4m3Split(weight, 0, 6, widened);
        float[] splitX = new float[4 * n];
        RowBlockDecoder.splitTokens(x, 0, 4, n, end, splitX, 0);
        StoredTiles.bf16Tile5x4(widened, 0, 2L * n, splitX, 0, n, end, StoredTiles.pairedChain1(end), widenedTile, lanes, 0);
        for (int r = 0; r < 6; r++) {
            for (int t = 0; t < 4; t++) {
                float row = LinearKernel.fusedRow(CpuWeight.linear(weight, 1f, Float.NaN), r, x, t * n, n, end);
                assertThat(Float.floatToRawIntBits(tile[4 * r + t])).as("e4m3 tile (%d, %d)", r, t).isEqualTo(Float.floatToRawIntBits(row));
                if (r < 5) {
                    assertThat(Float.floatToRawIntBits(widenedTile[4 * r + t])).as("widened tile (%d, %d)", r, t)
                            .isEqualTo(Float.floatToRawIntBits(row));
                }
            }
        }
    }

    private static final int L = DotKernels.F.length();

    /**
     * The order of {@link DotKernels} written out in scalars, the reference every kernel must equal: chunk j into
     * chain j % 2 lane by lane, chains added, lanes by the butterfly, then the tail.
     */
    private static float dot1(float[] w, int w0, float[] x, int x0, int n, int vectorEnd) {
        int chunks = vectorEnd / L;
        float[] chain0 = new float[L], chain1 = new float[L];
        for (int j = 0; j < chunks; j++) {
            float[] chain = j % 2 == 0 ? chain0 : chain1;
            for (int l = 0; l < L; l++) chain[l] = Math.fma(w[w0 + j * L + l], x[x0 + j * L + l], chain[l]);
        }
        for (int l = 0; l < L; l++) chain0[l] += chain1[l];
        return tail(w, w0, x, x0, vectorEnd, n, VectorMath.sumLanes(chain0, 0));
    }

    /**
     * The BF16 order of {@link DotKernels} written out in scalars: the row's words of 2L weights, the first half of them
     * (rounded up) into chain 0 and the rest into chain 1, word k adding element 2Lk + 2l and then 2Lk + 2l + 1 into lane
     * l; chains added, lanes by the butterfly, then the tail.
     */
    private static float dotWords(float[] w, int w0, float[] x, int x0, int n, int vectorEnd) {
        int words = vectorEnd / (2 * L), half = (words + 1) / 2;
        float[] chain0 = new float[L], chain1 = new float[L];
        for (int k = 0; k < words; k++) {
            float[] chain = k < half ? chain0 : chain1;
            for (int l = 0; l < L; l++) {
                int i = 2 * L * k + 2 * l;
                chain[l] = Math.fma(w[w0 + i], x[x0 + i], chain[l]);
                chain[l] = Math.fma(w[w0 + i + 1], x[x0 + i + 1], chain[l]);
            }
        }
        for (int l = 0; l < L; l++) chain0[l] += chain1[l];
        return tail(w, w0, x, x0, vectorEnd, n, VectorMath.sumLanes(chain0, 0));
    }

    /** Where feature {@code i} (row-major, n a row) lies in the word layout: per 2L features the even ones, then the odd ones. */
    private static int wordIndex(int i, int n, int vectorEnd) {
        int row = i / n, col = i % n;
        if (col >= vectorEnd) return i;
        int word = col / (2 * L), e = col % (2 * L);
        return row * n + word * 2 * L + (e % 2) * L + e / 2;
    }

    /**
     * Where weight {@code i} of a block of rows of {@code n} lies in their split copy: of a row's c whole chunks, chunk j
     * at place j / 2 when even, ceil(c / 2) + j / 2 when odd; the tail in place.
     */
    private static int splitIndex(int i, int n, int vectorEnd) {
        int row = i / n, col = i % n, j = col / L, chunks = vectorEnd / L;
        int place = j % 2 == 0 ? j / 2 : (chunks + 1) / 2 + j / 2;
        return col < vectorEnd ? row * n + place * L + col % L : i;
    }

    /**
     * Where feature {@code i} (row-major, n a row) lies in a BF16 group's paired split copy, in shorts: each chain's
     * chunks in pairs, a pair's two chunks interleaved element by element (the first in the low halves of its words),
     * a chain's odd last chunk as it is.
     */
    private static int pairedIndex(int i, int n, int vectorEnd) {
        int row = i / n, col = i % n, j = col / L, chunks = vectorEnd / L;
        if (col >= vectorEnd) return i;
        int evens = (chunks + 1) / 2, inChain = j % 2 == 0 ? evens : chunks / 2, start = j % 2 == 0 ? 0 : evens * L;
        int m = j / 2, l = col % L;
        int place = m / 2 < inChain / 2 ? start + m / 2 * 2 * L + 2 * l + m % 2 : start + inChain / 2 * 2 * L + l;
        return row * n + place;
    }

    /** Adds the scalar tail {@code [from, n)} to a lane sum. */
    private static float tail(float[] w, int w0, float[] x, int x0, int from, int n, float sum) {
        for (int i = from; i < n; i++) sum += w[w0 + i] * x[x0 + i];
        return sum;
    }
}
