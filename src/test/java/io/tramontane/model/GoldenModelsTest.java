package io.tramontane.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.cuda.CheckResult;
import io.tramontane.engine.GoldenChecks;
import io.tramontane.engine.ModelFactory;
import io.tramontane.testing.SharedFixtures;
import io.tramontane.weights.Checkpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case and layout of {@code ../shared/golden} (see its README) on the CPU backend, through the same
 * runner {@code gpu-check} uses for CUDA ({@link GoldenChecks}): one prefill and 16 greedy steps through the
 * paged KV cache per prompt at the FP32 tolerance (max |diff| <= 2e-3, all free-running ids equal); FP8 both
 * weight-only (FP32 tolerance on the plain logits) and static w8a8 (its own tolerance, teacher-forced). Also
 * as tensor-parallel groups of 2 and 4.
 */
class GoldenModelsTest {
    static final int BLOCK = 16;

    static Stream<Arguments> cases() {
        Stream<Arguments> single = GoldenChecks.CASES.stream().map(name -> Arguments.of(name, 1));
        return Stream.concat(single, Stream.of(Arguments.of("moe_4x2_layouts", 2),
                Arguments.of("ministral3_yarn_tied", 4), Arguments.of("dense_bf16_hf_gqa", 2)));
    }

    @ParameterizedTest(name = "{0}, tp={1}")
    @MethodSource("cases")
    void matchesTheFloat64ReferenceAtFp32Tolerance(String name, int tp) {
        Path golden = SharedFixtures.resolve("golden");
        List<CheckResult> results = GoldenChecks.run(golden, List.of(name),
                (weights, options) -> ModelFactory.cpu(weights, options.withTensorParallel(tp)));
        assertThat(results).as("layouts and variants checked for %s", name).isNotEmpty();
        results.forEach(r -> assertThat(r.passed()).as("%s", r).isTrue());
        if (name.startsWith("fp8")) assertThat(results).extracting(CheckResult::check).contains("golden", "golden w8a8");
    }

    @Test
    void nativeAndHfCopiesGiveTheSameLogits() {
        Path golden = SharedFixtures.resolve("golden");
        for (String name : List.of("dense_f32_layouts", "moe_4x2_layouts", "ministral3_yarn_tied")) {
            int[] tokens = IntStream.range(0, 40).map(i -> 1 + (i * 37) % 500).toArray();
            int[] rows = IntStream.range(0, tokens.length).toArray();
            float[][] a = logits(golden.resolve(name + "/native"), tokens, rows);
            float[][] b = logits(golden.resolve(name + "/hf"), tokens, rows);
            double max = 0;
            for (int r = 0; r < rows.length; r++) {
                for (int v = 0; v < a[r].length; v++) max = Math.max(max, Math.abs(a[r][v] - b[r][v]));
            }
            assertThat(max).as("%s native vs hf", name).isLessThan(1e-5);
        }
    }

    private static float[][] logits(Path dir, int[] tokens, int[] rows) {
        try (Checkpoint checkpoint = Checkpoint.open(dir);
             LanguageModel model = ModelFactory.cpu(checkpoint.weights(), new ModelFactory.Options(2, 1, 8, BLOCK, false))) {
            return model.forward(Step.ofSequence(tokens, 0, IntStream.range(0, 8).toArray(), rows));
        }
    }
}
