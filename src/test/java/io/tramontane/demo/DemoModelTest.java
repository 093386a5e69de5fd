package io.tramontane.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.tokenizer.SpecialTokenPolicy;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.weights.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoModelTest {

    @Test
    void isGeneratedDeterministicallyAndLoadsThroughTheCheckpointLoader(@TempDir Path a, @TempDir Path b) throws Exception {
        Path first = DemoModel.ensure(a), second = DemoModel.ensure(b);
        for (String file : new String[] {"params.json", "tekken.json", "consolidated.safetensors"}) {
            assertThat(Files.readAllBytes(first.resolve(file))).as(file).isEqualTo(Files.readAllBytes(second.resolve(file)));
        }
        assertThat(DemoModel.ensure(a)).as("second call reuses the cache").isEqualTo(first);
        try (Checkpoint checkpoint = Checkpoint.open(first)) {
            assertThat(checkpoint.config().dim()).isEqualTo(DemoModel.DIM);
            assertThat(checkpoint.tokenizerFile()).contains(first.resolve("tekken.json"));
        }
    }

    @Test
    void itsTokenizerRoundTripsTextAndMergesCommonWords(@TempDir Path cache) throws Exception {
        Tekken tekken = Tekken.load(DemoModel.ensure(cache).resolve("tekken.json"));
        String text = "The tramontane is a cold wind. {\"model\": \"demo\"} 北風 ∑ 🙂";
        int[] ids = tekken.encode(text);
        assertThat(tekken.decode(ids, SpecialTokenPolicy.KEEP)).isEqualTo(text);
        assertThat(tekken.encode(" the")).as("a frequent word is one learned token").hasSize(1);
        assertThat(tekken.vocabSize()).isGreaterThan(DemoModel.SPECIAL_TOKENS + 256 + 200);
    }
}
