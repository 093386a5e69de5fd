package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The int8 rounding of q4 linears' inputs at the edges: tiny, all-zero, NaN and infinite blocks, padding. */
class Q4ActivationsTest {
    private final CpuThreads threads = new CpuThreads(2);

    @AfterEach
    void close() {
        threads.close();
    }

    @Test
    void roundsEveryBlockAgainstItsOwnMaximumAndShowsNonFiniteInputsInTheScale() {
        int cols = 5 * CpuWeights.BLOCK - 7;  // one group of five blocks, the last one padded
        float[] x = new float[cols];
        for (int i = 0; i < 32; i++) x[i] = 1e-38f * (i - 16) / 16;  // tiny: 127 / maxabs overflows FP32
        // block 1 stays zero
        Arrays.fill(x, 64, 96, 1f);
        x[70] = Float.NaN;
        Arrays.fill(x, 96, 128, 2f);
        x[100] = Float.NEGATIVE_INFINITY;
        for (int i = 128; i < cols; i++) x[i] = i - 140;
        Q4Activations a = Q4Activations.quantize(x, 1, cols, threads);
        assertThat(a.blocks).isEqualTo(5);
        assertThat(a.scales[0]).isEqualTo(1e-38f / 127);
        assertThat(quant(a, 0, 0)).as("-maxabs").isEqualTo(-127);
        assertThat(quant(a, 0, 8)).as("-maxabs / 2").isEqualTo(-64);  // rint(-63.5) = -64
        assertThat(quant(a, 0, 16)).isZero();
        assertThat(a.scales[1]).as("all-zero block").isZero();
        for (int j = 0; j < 32; j++) assertThat(quant(a, 1, j)).isZero();
        assertThat(a.scales[2]).as("a NaN block's scale").isNaN();
        assertThat(a.scales[3]).as("an infinite block's scale").isInfinite();
        assertThat(a.scales[4]).isEqualTo(12f / 127);  // columns 128..152: -12 .. 12, then padding
        assertThat(quant(a, 4, 0)).isEqualTo(-127);
        assertThat(quant(a, 4, 6)).as("rint(-63.5)").isEqualTo(-64);
        for (int j = cols - 128; j < 32; j++) assertThat(quant(a, 4, j)).as("padding position %d", j).isZero();
        for (int b = a.blocks; b < a.scaleOffset(1); b++) assertThat(a.scales[b]).as("scale padding %d", b).isZero();
    }

    /** Position j of block b of token 0, where the group layout keeps it (one group: words j * blocks + b). */
    private static int quant(Q4Activations a, int b, int j) {
        return a.quants[a.quantOffset(0) + j * a.blocks + b];
    }
}
