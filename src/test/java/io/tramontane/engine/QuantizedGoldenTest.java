package io.tramontane.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.model.LanguageModel;
import io.tramontane.testing.SharedFixtures;
import io.tramontane.weights.Checkpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The accuracy cost of {@code --cpu-weights q8 / q4} on every golden case (first layout of each, weight-only for
 * FP8), teacher-forced as the golden README prescribes for lossy variants: the prompt's logits from one prefill,
 * then each reference greedy id fed back through the KV cache. Compared with the float64 reference logits: the
 * RMS and max of |diff|, and the argmax at every step whose reference margin (top-1 minus top-2) is at least
 * 0.5. The bounds are derived in {@link #expectedRelativeRms}; the measured figures are printed for the README.
 */
class QuantizedGoldenTest {
    static final int BLOCK = GoldenChecks.BLOCK, BLOCKS = GoldenChecks.BLOCKS;
    static final double MARGIN = TeacherForced.MARGIN;

    static Stream<Arguments> casesAndFormats() {
        return GoldenChecks.CASES.stream()
                .flatMap(name -> Stream.of(CpuWeights.Q8, CpuWeights.Q4).map(format -> Arguments.of(name, format)));
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("casesAndFormats")
    void teacherForcedLogitsStayWithinTheDerivedBound(String name, CpuWeights format) {
        Path golden = SharedFixtures.resolve("golden");
        Path dir = GoldenChecks.modelDirs(golden, List.of(name)).getFirst();
        Path caseDir = GoldenChecks.caseDir(dir);
        try (Checkpoint checkpoint = Checkpoint.open(dir);
             LanguageModel model = ModelFactory.cpu(checkpoint.weights(), new ModelFactory.Options(2, 1, BLOCKS, BLOCK, false, format))) {
            TeacherForced.Error e = TeacherForced.measure(model, caseDir);
            System.out.printf("golden %s %s: logit RMS %.4f (%.2f%% of the reference logits' RMS %.3f), max |diff| %.3f over "
                    + "%d rows; argmax kept at %d of %d steps with margin >= %.1f%n", name, format.cliName(), e.rms(),
                    100 * e.relativeRms(), e.referenceRms(), e.maxAbs(), e.rows(), e.marginSteps() - e.marginMisses(),
                    e.marginSteps(), MARGIN);
            double expected = expectedRelativeRms(format, checkpoint.config().nLayers());
            assertThat(e.relativeRms()).as("%s %s: RMS of the logit error / RMS of the logits", name, format)
                    .isLessThan(2 * expected);
            if (checkpoint.config().moe() == null) {  // a router whose top-k gap is below the error may switch experts
                assertThat(e.maxAbs() / e.referenceRms()).as("%s %s: max |diff| / RMS of the logits", name, format)
                        .isLessThan(8 * 2 * expected);
            }
            if (format == CpuWeights.Q8) {
                assertThat(e.marginMisses()).as("%s q8: argmax changed at a step with margin >= %s", name, MARGIN).isZero();
            }
        }
    }

    /**
     * RMS of the logit error relative to the RMS of the logits, expected from the quantization noise alone. A block's
     * rounding error is about uniform over one step {@code d}, so of RMS {@code d / sqrt(12)}; with {@code d = maxabs /
     * 127} (q8) or {@code maxabs / 8} (q4) and a block maximum of about 2.5 sigma for 32 normal weights, each linear's
     * output is perturbed by 0.57% (q8) or 9.0% (q4) of its RMS; q4 also rounds its input to int8 blocks ({@code maxabs /
 * 127}: another 0.57%, in quadrature 9.02%). A model of L blocks chains 7L + 1 linears (four in
     * attention, three in the FFN, the head), whose perturbations add in quadrature through the residual stream:
     * {@code sqrt(7L + 1)} times that, 2.2% (q8) and 35% (q4) for the two-block golden models, if attention and SwiGLU
     * neither damp nor amplify. The test allows twice that for the nonlinearities, and a maximum |diff| of eight
     * times the allowed RMS (the tail of some hundred thousand roughly normal errors).
     */
    static double expectedRelativeRms(CpuWeights format, int layers) {
        double weights = 2.5 / (format == CpuWeights.Q8 ? 127 : 8) / Math.sqrt(12), activations = 2.5 / 127 / Math.sqrt(12);
        double perLinear = format == CpuWeights.Q4 ? Math.hypot(weights, activations) : weights;
        return Math.sqrt(7 * layers + 1) * perLinear;
    }

    /** Logit error of one case against its reference. */
}
