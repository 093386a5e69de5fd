package io.tramontane.backend.cpu;

import io.tramontane.weights.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Test helpers: weights worth quantizing, and a scalar reading of a {@link QuantizedMatrix} written from its docs. */
final class QuantizedWeights {
    private QuantizedWeights() {}

    /**
     * A {@code [rows, cols]} F32 tensor whose blocks of 32 have magnitudes spread over five decades, with an
     * occasional outlier twenty times larger, the odd all-zero block, and a row of zeros.
     */
    static Tensor random(String name, int rows, int cols, SplittableRandom random) {
        float[] values = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            if (r == rows / 2 && rows > 2) continue;  // a row of zeros
            for (int b = 0; b < cols; b += CpuWeights.BLOCK) {
                int kind = random.nextInt(10);
                if (kind == 0) continue;  // an all-zero block
                double magnitude = Math.pow(10, random.nextDouble(-4, 1));
                for (int i = b; i < Math.min(cols, b + CpuWeights.BLOCK); i++) {
                    double v = random.nextGaussian() * magnitude;
                    if (kind == 1 && random.nextInt(8) == 0) v *= 20;
                    values[r * cols + i] = (float) v;
                }
            }
        }
        return Tensor.ofFloats(name, new long[] {rows, cols}, values);
    }

    static float scale(QuantizedMatrix m, int row, int col) {
        return m.scale(row, col / CpuWeights.BLOCK);
    }

    /** The signed quant of weight {@code (row, col)}, read as the layout documentation describes it. */
    static int quant(QuantizedMatrix m, int row, int col) {
        int block = col / CpuWeights.BLOCK, w = col % CpuWeights.BLOCK;
        if (m.format() == CpuWeights.Q8) {
            return m.quants().get(ValueLayout.JAVA_BYTE, m.quantOffset(row) + (long) block * CpuWeights.BLOCK + w);
        }
        // q4: groups of G = 2L blocks (fewer in the last); in a group of w blocks, 16-bit word p w + l holds positions
        // 4p .. 4p + 3 of block l, position 4p + k in bits 4k .. 4k + 3 (little-endian)
        int group = 2 * DotKernels.F.length(), blocks = m.blocksPerRow(), g = block / group;
        int width = Math.min(group, blocks - g * group);
        long word = (long) g * group * 8 + (long) (w / 4) * width + block % group;
        int bits = m.quants().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN),
                m.quantOffset(row) + 2 * word);
        int nibble = bits >> 4 * (w % 4) & 0xF;
        return nibble >= 8 ? nibble - 16 : nibble;
    }

    /** Weight {@code (row, col)} as the kernels must see it: scale times quant. */
    static double weight(QuantizedMatrix m, int row, int col) {
        return (double) scale(m, row, col) * quant(m, row, col);
    }

    /**
     * Feature {@code i} of the token at {@code x[x0 ..]} (of {@code cols}) as a q4 linear takes it, written from
     * {@link Q4Activations}' docs: {@code {quant, scale}} of its block, scale = maxabs / 127, quant = rint(x * (127.0 /
     * maxabs)) in double, clamped to [-127, 127].
     */
    static float[] activation(float[] x, int x0, int cols, int i) {
        int start = i / CpuWeights.BLOCK * CpuWeights.BLOCK;
        float maxAbs = 0;
        for (int j = start; j < Math.min(cols, start + CpuWeights.BLOCK); j++) maxAbs = Math.max(maxAbs, Math.abs(x[x0 + j]));
        float quant = i >= cols || maxAbs == 0 ? 0 : Math.clamp(Math.round(Math.rint(x[x0 + i] * (127.0 / maxAbs))), -127, 127);
        return new float[] {quant, maxAbs / 127};
    }

    /**
     * Row {@code row} of a q4 matrix with the token at {@code x[x0 ..]} in the order {@link Q4Rows} documents: per group
     * of 2L blocks, lane l's integer block sum times (weight scale x activation scale), by FMA into FP32 accumulator
     * {@code l / L}, lane {@code l % L} (lanes past the group's blocks add fma(0, 0, acc)); the two accumulators added,
     * then the butterfly.
     */
    static float q4Dot(QuantizedMatrix m, int row, float[] x, int x0) {
        int lanes = DotKernels.F.length(), group = 2 * lanes, blocks = m.blocksPerRow();
        float[] acc = new float[group];
        for (int g = 0; g * group < blocks; g++) {
            for (int l = 0; l < group; l++) {
                int block = g * group + l, sum = 0;
                float scale = 0;
                if (block < blocks) {
                    for (int j = 0; j < CpuWeights.BLOCK; j++) {
                        int col = block * CpuWeights.BLOCK + j;
                        sum += quant(m, row, col) * (int) activation(x, x0, m.cols(), col)[0];
                    }
                    scale = m.scale(row, block) * activation(x, x0, m.cols(), block * CpuWeights.BLOCK)[1];
                }
                acc[l] = Math.fma((float) sum, scale, acc[l]);
            }
        }
        float[] folded = new float[lanes];
        for (int i = 0; i < lanes; i++) folded[i] = acc[i] + acc[lanes + i];
        return VectorMath.sumLanes(folded, 0);
    }
}
