package io.tramontane.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.engine.ModelFactory;
import io.tramontane.testing.SharedFixtures;
import io.tramontane.weights.Checkpoint;
import io.tramontane.weights.SafetensorsFile;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case and layout of {@code ../shared/golden} (see its README) through checkpoint loading, one
 * prefill and 16 greedy steps through the paged KV cache, at the FP32 tolerance: max |diff| <= 2e-3 on
 * all stored rows and steps, all 16 free-running ids equal. The FP8 case runs both variants: weight-only
 * against the plain logits at the FP32 tolerance, static w8a8 against the w8a8 logits at its tolerance.
 */
class GoldenModelsTest {
    static final double FP32_TOLERANCE = 2e-3;
    static final int BLOCK = 16;

    static Stream<Arguments> cases() {
        Path golden = SharedFixtures.resolve("golden");
        List<Arguments> cases = new ArrayList<>();
        for (String name : List.of("dense_f32_layouts", "dense_bf16_hf_gqa", "moe_4x2_layouts", "ministral3_yarn_tied",
                "fp8_native_small", "tekken_vocab_bf16")) {
            Path dir = golden.resolve(name);
            for (String layout : List.of("native", "hf")) {
                if (Files.isDirectory(dir.resolve(layout))) cases.add(Arguments.of(name, layout, dir.resolve(layout), 1));
            }
            if (!Files.isDirectory(dir.resolve("native"))) cases.add(Arguments.of(name, "single", dir, 1));
        }
        cases.add(Arguments.of("moe_4x2_layouts", "hf", golden.resolve("moe_4x2_layouts/hf"), 2));
        cases.add(Arguments.of("ministral3_yarn_tied", "native", golden.resolve("ministral3_yarn_tied/native"), 4));
        cases.add(Arguments.of("dense_bf16_hf_gqa", "single", golden.resolve("dense_bf16_hf_gqa"), 2));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} ({1}, tp={3})")
    @MethodSource("cases")
    void matchesTheFloat64ReferenceAtFp32Tolerance(String name, String layout, Path modelDir, int tp) {
        boolean fp8 = name.startsWith("fp8");
        // FP8 here: weight-only dequantization, which the FP32 tolerance of the plain logits applies to
        check(modelDir, name, tp, false, "");
        if (fp8) check(modelDir, name, tp, true, "w8a8.");
    }

    private void check(Path modelDir, String name, int tp, boolean w8a8, String variant) {
        Path caseDir = name.equals(modelDir.getFileName().toString()) ? modelDir : modelDir.getParent();
        try (Checkpoint checkpoint = Checkpoint.open(modelDir); Arena arena = Arena.ofConfined()) {
            SafetensorsFile expected = SafetensorsFile.open(caseDir.resolve("expected.safetensors"), arena);
            var options = new ModelFactory.Options(2, tp, 64, BLOCK, w8a8);
            try (LanguageModel model = ModelFactory.cpu(checkpoint.weights(), options)) {
                int p = 0;
                for (; expected.contains("p" + p + ".tokens"); p++) {
                    String prefix = "p" + p + ".";
                    int[] tokens = ints(expected.tensor(prefix + "tokens"));
                    int[] rows = ints(expected.tensor(prefix + "rows"));
                    int[] blockTable = IntStream.range(0, 64).toArray();
                    // a fresh sequence reuses the same blocks: prefill overwrites every position it reads
                    float[][] prefill = model.forward(Step.ofSequence(tokens, 0, blockTable, rows));
                    Tensor logits = expected.tensor(prefix + variant + "logits");
                    double tolerance = w8a8 ? 1.0 : FP32_TOLERANCE;
                    assertThat(maxAbsDiff(prefill, logits)).as("%s %sprefill logits", prefix, variant).isLessThan(tolerance);
                    if (w8a8) assertThat(rms(prefill, logits)).as("%s w8a8 RMS", prefix).isLessThan(0.05);

                    int[] greedy = ints(expected.tensor(prefix + variant + "greedy_ids"));
                    Tensor greedyLogits = expected.tensor(prefix + variant + "greedy_logits");
                    float[] last = model.forward(Step.ofSequence(tokens, 0, blockTable, tokens.length - 1))[0];
                    int[] generated = new int[greedy.length];
                    float[][] stepLogits = new float[greedy.length][];
                    for (int j = 0; j < greedy.length; j++) {
                        stepLogits[j] = last;
                        generated[j] = argmax(last);
                        // teacher-forced for w8a8 (its activation quantization is discontinuous), free-running otherwise
                        int next = w8a8 ? greedy[j] : generated[j];
                        if (j + 1 < greedy.length) {
                            last = model.forward(Step.ofSequence(new int[] {next}, tokens.length + j, blockTable, 0))[0];
                        }
                    }
                    assertThat(maxAbsDiff(stepLogits, greedyLogits)).as("%s %sgreedy step logits", prefix, variant)
                            .isLessThan(tolerance);
                    if (!w8a8) assertThat(generated).as("%s greedy ids", prefix).containsExactly(greedy);
                }
                assertThat(p).as("prompts checked in %s", caseDir).isEqualTo(promptCount(caseDir));
            }
        }
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

    private static int promptCount(Path caseDir) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(caseDir.resolve("prompt.json").toFile())
                    .get("prompts").size();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static int[] ints(Tensor t) {
        int[] out = new int[(int) t.elementCount()];
        for (int i = 0; i < out.length; i++) out[i] = (int) t.get(0, i);
        return out;
    }

    static double maxAbsDiff(float[][] actual, Tensor expected) {
        double max = 0;
        for (int r = 0; r < actual.length; r++) {
            for (int v = 0; v < actual[r].length; v++) max = Math.max(max, Math.abs(actual[r][v] - expected.get(r, v)));
        }
        return max;
    }

    static double rms(float[][] actual, Tensor expected) {
        double sum = 0;
        long n = 0;
        for (int r = 0; r < actual.length; r++) {
            for (int v = 0; v < actual[r].length; v++, n++) sum += Math.pow(actual[r][v] - expected.get(r, v), 2);
        }
        return Math.sqrt(sum / n);
    }
}
