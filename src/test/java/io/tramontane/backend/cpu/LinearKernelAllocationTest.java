package io.tramontane.backend.cpu;

import io.tramontane.weights.DType;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Once compiled, a linear's kernels allocate nothing: scratch is per thread, and no vector is boxed on the way, in the
 * decode rows' sixteen-row sums, the stored tiles' and the prefill tiles' twenty- and twenty-four-sum folds. A boxed
 * vector in {@link LaneSums} (a phi merging loaded vectors with a static vector constant) allocated 8.6 GB in 15 s of
 * a 512-token prefill (2026-11-27).
 */
class LinearKernelAllocationTest {
    @ParameterizedTest(name = "{0} tokens={1}")
    @CsvSource({"BF16,1", "BF16,8", "BF16,64", "F8_E4M3,1", "F8_E4M3,8", "F8_E4M3,64", "F32,1", "F32,8"})
    void aCompiledLinearAllocatesNothing(DType dtype, int tokens) {
        int rows = 60, n = 256;
        SplittableRandom random = new SplittableRandom(tokens * 7L + dtype.ordinal());
        Tensor weight = DotKernelsTest.randomRows(dtype, rows, n, random);
        CpuWeight cpu = CpuWeight.linear(weight, 1f, Float.NaN);
        float[] x = new float[tokens * n], split = new float[tokens * n], out = new float[tokens * rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        RowBlockDecoder.arrangeTokens(cpu, x, 0, tokens, n, RowBlockDecoder.vectorEnd(n, cpu), split, 0);
        CompiledAllocations.assertNone("calls", 200, () -> LinearKernel.rows(cpu, x, split, 0, tokens, n, 0, rows, 1f, out, rows, false));
    }

    /**
     * The same for linears quantized at load: q8 (FP32 activations, the stored paths' loops) and q4 (int8 activations).
     * q8 at 8 tokens is {@code Q8Rows.tile6x4}, which allocated 105-248 KB a call in two of five runs of the whole suite
     * while it read its block scales through the segment inside its loop (docs/cpu-kernels.md).
     */
    @ParameterizedTest(name = "{0} tokens={1}")
    @CsvSource({"Q8,1", "Q8,8", "Q8,64", "Q4,1", "Q4,8", "Q4,64"})
    void aCompiledQuantizedLinearAllocatesNothing(CpuWeights format, int tokens) {
        int rows = 60, n = 256;
        SplittableRandom random = new SplittableRandom(tokens * 11L + format.ordinal());
        Tensor weight = DotKernelsTest.randomRows(DType.F32, rows, n, random);
        float[] x = new float[tokens * n], out = new float[tokens * rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        try (CpuThreads one = new CpuThreads(1); Arena arena = Arena.ofConfined()) {
            QuantizedMatrix m = Quantizer.quantize(weight, 1f, format, one, arena);
            CpuWeight cpu = CpuWeight.quantized(weight, m, Float.NaN);
            float[] split = new float[tokens * n];
            RowBlockDecoder.arrangeTokens(cpu, x, 0, tokens, n, RowBlockDecoder.vectorEnd(n, cpu), split, 0);
            Q4Activations x4 = format == CpuWeights.Q4 ? Q4Activations.quantize(x, tokens, n, one) : null;
            CompiledAllocations.assertNone("calls", 200, x4 != null ? () -> LinearKernel.q4Rows(m, x4, 0, rows, 1f, out, rows)
                    : () -> LinearKernel.rows(cpu, x, split, 0, tokens, n, 0, rows, 1f, out, rows, false));
        }
    }
}
