package io.tramontane.tokenizer;

import static io.tramontane.tokenizer.SharedTekken.ints;
import static io.tramontane.tokenizer.SharedTekken.strings;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TextEncodeCasesTest {

    static Stream<Arguments> cases() {
        List<JsonNode> cases = SharedTekken.cases("text-encode.json");
        return cases.stream().map(c -> Arguments.of(Named.of(c.get("id").asText() + " " + c.get("category").asText(), c)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void piecesIdsAndDecodingMatch(JsonNode testCase) {
        Tekken tekken = SharedTekken.tokenizer("tekken-v13.json");
        String text = testCase.get("text").asText();

        assertThat(tekken.pieces(text)).isEqualTo(strings(testCase.get("pieces")));
        assertThat(tekken.encode(text)).containsExactly(ints(testCase.get("ids")));
        assertThat(tekken.decode(ints(testCase.get("ids")), SpecialTokenPolicy.KEEP))
                .isEqualTo(testCase.get("decoded").asText());
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyShippedVersionEncodesTheSame(JsonNode testCase) {
        String text = testCase.get("text").asText();
        int[] expected = ints(testCase.get("ids"));
        for (String file : List.of("tekken-v3.json", "tekken-v7.json", "tekken-v15.json")) {
            assertThat(SharedTekken.tokenizer(file).encode(text)).as(file).containsExactly(expected);
        }
    }
}
