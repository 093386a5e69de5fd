package io.tramontane.tokenizer;

import static io.tramontane.tokenizer.SharedTekken.ints;
import static io.tramontane.tokenizer.SharedTekken.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DecodeCasesTest {
    private static Tekken tekken() {
        return SharedTekken.tokenizer(SharedTekken.caseFile("decode.json").get("tokenizer_file").asText());
    }

    static Stream<Arguments> cases() {
        return SharedTekken.cases("decode.json").stream()
                .map(c -> Arguments.of(Named.of(c.get("id").asText() + " " + c.get("description").asText(), c)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void keepAndIgnore(JsonNode testCase) {
        int[] ids = ints(testCase.get("ids"));
        assertThat(tekken().decode(ids, SpecialTokenPolicy.KEEP)).isEqualTo(testCase.get("keep").asText());
        assertThat(tekken().decode(ids, SpecialTokenPolicy.IGNORE)).isEqualTo(testCase.get("ignore").asText());
    }

    @ParameterizedTest
    @MethodSource("cases")
    void streaming(JsonNode testCase) {
        StreamingDecoder decoder = tekken().streamingDecoder();
        List<String> emitted = new ArrayList<>();
        for (int id : ints(testCase.get("ids"))) emitted.add(decoder.accept(id));

        assertThat(emitted).isEqualTo(strings(testCase.get("stream")));
        assertThat(decoder.flush()).isEqualTo(testCase.get("stream_final_flush").asText());
        assertThat(decoder.hasPending()).isFalse();
    }

    @Test
    void raisePolicyRejectsSpecialTokensByName() {
        int[] ids = {1, 22177, 2};
        Tekken tekken = tekken();  // outside the lambda: a missing ../shared must skip, not count as the throw
        assertThatThrownBy(() -> tekken.decode(ids, SpecialTokenPolicy.RAISE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("<s>");
        assertThat(tekken.decode(new int[] {22177}, SpecialTokenPolicy.RAISE)).isEqualTo("Hello");
    }

    @Test
    void idsOutsideTheVocabularyAreRejected() {
        Tekken tekken = tekken();
        assertThatThrownBy(() -> tekken.decode(new int[] {131072}, SpecialTokenPolicy.KEEP))
                .hasMessageContaining("131072").hasMessageContaining("0..131071");
        assertThatThrownBy(() -> tekken.decode(new int[] {-1}, SpecialTokenPolicy.KEEP))
                .hasMessageContaining("-1");
    }
}
