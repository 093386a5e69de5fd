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
        // q4: bytes in groups of P = vector lanes; group g holds chunk 2g in low nibbles, chunk 2g + 1 in high ones
        int pair = DotKernels.F.length(), chunk = w / pair;
        int b = m.quants().get(ValueLayout.JAVA_BYTE,
                m.quantOffset(row) + (long) block * (CpuWeights.BLOCK / 2) + chunk / 2 * pair + w % pair);
        int nibble = chunk % 2 == 1 ? (b >> 4) & 0xF : b & 0xF;
        return nibble >= 8 ? nibble - 16 : nibble;
    }

    /** Weight {@code (row, col)} as the kernels must see it: scale times quant. */
    static double weight(QuantizedMatrix m, int row, int col) {
        return (double) scale(m, row, col) * quant(m, row, col);
    }
}
