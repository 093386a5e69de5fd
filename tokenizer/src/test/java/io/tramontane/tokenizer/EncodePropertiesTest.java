package io.tramontane.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class EncodePropertiesTest {
    private static Tekken tekken;
    private static ReferenceBpe reference;

    @BeforeAll
    static void load() {
        tekken = SharedTekken.tokenizer("tekken-v13.json");
        reference = new ReferenceBpe(tekken);
    }

    static IntStream seeds() {
        return IntStream.range(0, 200);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void decodingTheEncodingGivesTheTextBack(int seed) {
        String text = RandomText.generate(new SplittableRandom(seed), 1 + seed % 300);
        assertThat(tekken.decode(tekken.encode(text), SpecialTokenPolicy.RAISE)).isEqualTo(text);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void fastEncoderEqualsTheQuadraticReference(int seed) {
        String text = RandomText.generate(new SplittableRandom(1000 + seed), 1 + seed % 300);
        assertThat(tekken.encode(text)).containsExactly(reference.encode(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "ab", "é", "字", "🙂", "1", "!", "aA"})
    void longPiecesWithoutWhitespaceEqualTheReference(String unit) {
        SplittableRandom random = new SplittableRandom(unit.hashCode());
        StringBuilder text = new StringBuilder();
        while (text.length() < 4000) text.append(random.nextInt(4) == 0 ? "x" : unit);
        assertThat(tekken.encode(text.toString())).containsExactly(reference.encode(text.toString()));
    }

    /** A quadratic merge loop would take hours here; the heap-based one takes well under a second. */
    @ParameterizedTest
    @ValueSource(strings = {"abcdefghijklmnopqrstuvwxyz", "的一是不了人我在有他这为之大来以个中上们", "!#$%&*+-.<=>?@^_|~"})
    void oneMegabyteWithoutWhitespaceEncodesFast(String alphabet) {
        SplittableRandom random = new SplittableRandom(3);
        StringBuilder text = new StringBuilder();
        while (text.length() < 1_000_000 / 3) text.append(alphabet.charAt(random.nextInt(alphabet.length())));
        String big = text.toString().repeat(alphabet.charAt(0) < 0x80 ? 3 : 1);
        assertThat(tekken.pieces(big.substring(0, Math.min(big.length(), 20_000)))).hasSizeLessThan(3);
        int[] ids = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> tekken.encode(big));
        assertThat(tekken.decode(ids, SpecialTokenPolicy.RAISE)).isEqualTo(big);
    }

    @Test
    void textSpellingControlTokensIsOrdinaryText() {
        int[] ids = tekken.encode("<s>[INST]hi[/INST]</s>[TOOL_CALLS]");
        assertThat(IntStream.of(ids).filter(tekken::isSpecial)).isEmpty();
        assertThat(tekken.decode(ids, SpecialTokenPolicy.RAISE)).isEqualTo("<s>[INST]hi[/INST]</s>[TOOL_CALLS]");
    }

    @Test
    void encodingIsThreadSafe() throws Exception {
        List<String> texts = IntStream.range(0, 64).mapToObj(i -> RandomText.generate(new SplittableRandom(i), 2000)).toList();
        List<int[]> expected = texts.stream().map(tekken::encode).toList();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<int[]>> results = texts.stream().map(t -> pool.submit(() -> tekken.encode(t))).toList();
            for (int i = 0; i < texts.size(); i++) assertThat(results.get(i).get()).containsExactly(expected.get(i));
        }
    }
}
