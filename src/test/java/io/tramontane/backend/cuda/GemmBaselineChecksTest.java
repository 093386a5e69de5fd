package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.cuda.CublasLtGemm;
import io.tramontane.cuda.CublasLtProbe;
import io.tramontane.cuda.CudaDataType;
import io.tramontane.weights.Floats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What GemmBaselineChecks decides without a GPU: skipping, inputs, shapes, reporting, and why its FP8 bound holds. */
class GemmBaselineChecksTest {

    @Test
    void withoutCublasLtTheSectionIsOnePassingSkippedRow() {
        var probe = new CublasLtProbe(Optional.empty(), "cuBLASLt unavailable: libcublasLt.so.13 not found", null, 0);
        List<CheckResult> results = GemmBaselineChecks.all(null, probe);
        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.passed()).isTrue();
            assertThat(r.check()).isEqualTo("cuBLASLt baseline");
            assertThat(r.detail()).isEqualTo("skipped: cuBLASLt unavailable: libcublasLt.so.13 not found");
        });
    }

    @Test
    void inputsAreExactlyRepresentableSoBothSidesMultiplyTheSameNumbers() {
        SplittableRandom random = new SplittableRandom(7);
        var fp8 = GemmBaselineChecks.Precision.FP8_W8A8;
        for (int i = 0; i < 10_000; i++) {
            float x = fp8.input(random.nextDouble(-1, 1));
            // the backend's static quantization, e4m3(x / activationScale), loses nothing
            float quantized = Floats.e4m3ToFloat(Floats.floatToE4m3(x / fp8.activationScale()));
            assertThat(quantized * fp8.activationScale()).isEqualTo(x);
            float b = GemmBaselineChecks.Precision.BF16.input(random.nextDouble(-1, 1));
            assertThat(Floats.bf16ToFloat(Floats.floatToBf16(b))).isEqualTo(b);
        }
        assertThat(Math.getExponent(fp8.weightScale())).isEqualTo(-6);
        assertThat(fp8.weightScale()).isEqualTo(0x1p-6f);
    }

    @Test
    void cublasLtIsGivenTheCodesTheBackendComputesWith() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(2), shorts = arena.allocate(4);
            var fp8 = GemmBaselineChecks.Precision.FP8_W8A8;
            fp8.store(bytes, 1, 0.375f);  // 0.375 / 2^-5 = 12
            assertThat(Floats.e4m3ToFloat(bytes.get(JAVA_BYTE, 1))).isEqualTo(12f);
            GemmBaselineChecks.Precision.BF16.store(shorts, 1, -1.5f);
            assertThat(Floats.bf16ToFloat(shorts.getAtIndex(JAVA_SHORT, 1))).isEqualTo(-1.5f);
        }
    }

    @Test
    void everyProjectionIsAValidFp8TnProblemOnTheBackendsPaddedRows() {
        assertThat(GemmBaselineChecks.PROJECTIONS).extracting(GemmBaselineChecks.Projection::name)
                .containsExactly("q", "k/v", "o", "gate/up", "down");
        for (var p : GemmBaselineChecks.PROJECTIONS) {
            for (int m : GemmBaselineChecks.PREFILL_TOKENS) {
                for (WeightFormat format : List.of(WeightFormat.E4M3, WeightFormat.BF16)) {
                    CudaDataType type = format == WeightFormat.E4M3 ? CudaDataType.R_8F_E4M3 : CudaDataType.R_16BF;
                    assertThat(format.stride(p.k())).as("%s rows are dense", p).isEqualTo(p.k());
                    new CublasLtGemm.Shape(type, m, p.n(), p.k(), format.stride(p.k()));  // throws if cuBLASLt would refuse
                }
            }
        }
        for (int[] s : GemmBaselineChecks.ORACLE_SHAPES) {
            new CublasLtGemm.Shape(CudaDataType.R_8F_E4M3, s[0], s[1], s[2], WeightFormat.E4M3.stride(s[2]));
        }
    }

    @Test
    void timingReportsBothThroughputsAndTheirRatio() {
        assertThat(GemmBaselineChecks.timing(2e12, 2000, 1000))
                .isEqualTo("1000 TFLOP/s; cuBLASLt 1000.0 us 2000 TFLOP/s; ours/cuBLASLt 0.50");
        assertThat(GemmBaselineChecks.conversionNote("gemm_input_e4m3", 31, 1000, 700))
                .isEqualTo("; gemm_input_e4m3 31.0 us of it, ours/cuBLASLt 0.72 without it");
        AtomicInteger call = new AtomicInteger();
        double[] times = {5, 3, 4, 9, 3.5};
        assertThat(GemmBaselineChecks.best(() -> times[call.getAndIncrement()])).isEqualTo(3);
        assertThat(call).hasValue(GemmBaselineChecks.TIMED_RUNS);
    }

    // ---- the FP8 bound, on a model of Hopper's FP8 accumulation

    /** Keeps {@code bits} significant bits of v, truncating toward zero. */
    private static double truncate(double v, int bits) {
        if (v == 0) return 0;
        double scale = Math.scalb(1.0, bits - 1 - Math.getExponent(v));
        return (long) (v * scale) / scale;
    }

    /**
     * Max error (relative to max(|ref|, RMS), as the check measures it) of m x n dot products of length k of FP8
     * inputs: each wgmma k-step (32) is added into a 14-bit accumulator, promoted to FP32 every {@code promoteEvery}
     * steps (0: never); {@code lostTile} (or -1) drops a 64-wide k-tile, as a broken kernel would.
     */
    private static double fp8Error(int k, int promoteEvery, int lostTile) {
        int m = 4, n = 32;
        SplittableRandom random = new SplittableRandom(11);
        var fp8 = GemmBaselineChecks.Precision.FP8_W8A8;
        double[][] w = new double[n][k], x = new double[m][k];
        for (double[] row : w) for (int i = 0; i < k; i++) row[i] = Floats.e4m3ToFloat(Floats.floatToE4m3((float) random.nextDouble(-8, 8)));
        for (double[] row : x) for (int i = 0; i < k; i++) row[i] = fp8.input(random.nextDouble(-1, 1)) / fp8.activationScale();
        float[] actual = new float[m * n], reference = new float[m * n];
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < n; c++) {
                double exact = 0, accumulator = 0;
                float promoted = 0;
                for (int step = 0; step < k / 32; step++) {
                    double chunk = 0;
                    for (int i = step * 32; i < step * 32 + 32; i++) {
                        double product = x[r][i] * w[c][i];
                        exact += product;
                        if (i / 64 != lostTile) chunk += product;
                    }
                    accumulator = truncate(accumulator + chunk, 14);
                    if (promoteEvery > 0 && (step + 1) % promoteEvery == 0) {
                        promoted += (float) accumulator;
                        accumulator = 0;
                    }
                }
                actual[r * n + c] = (float) (promoted + accumulator);
                reference[r * n + c] = (float) exact;
            }
        }
        return BackendChecks.compare("model", "", 0, actual, reference, true, 1, 0).maxRelativeError();
    }

    @Test
    void promotingEvery128KeepsFp8WellInsideItsBound() {
        double bound = GemmBaselineChecks.Precision.FP8_W8A8.bound;
        assertThat(fp8Error(5120, 4, -1)).isLessThan(bound / 3);
        assertThat(fp8Error(32768, 4, -1)).isLessThan(bound / 3);
    }

    @Test
    void aKernelThatNeverPromotesOrLosesATileFailsIt() {
        double bound = GemmBaselineChecks.Precision.FP8_W8A8.bound;
        assertThat(fp8Error(5120, 0, -1)).isGreaterThan(bound);
        assertThat(fp8Error(5120, 4, 7)).isGreaterThan(10 * bound);
    }
}
