package io.tramontane.constraint;

import static io.tramontane.constraint.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.TokenizerVersion;
import io.tramontane.tokenizer.instruct.AssistantOutput;
import io.tramontane.tokenizer.instruct.OutputParser;
import io.tramontane.tokenizer.instruct.Tool;
import io.tramontane.tokenizer.instruct.ToolCall;
import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random walks: every step picks a random allowed token until EOS. Every output must be valid UTF-8,
 * parse as strict JSON and pass the independent validator; forced tool calls must parse with the tokenizer
 * module's output parser into calls of the allowed functions with valid arguments.
 */
class RandomWalkTest {
    private static final ConstraintLimits LIMITS = new ConstraintLimits(10, 4, 2, 3, 3, 2, 3);

    static Stream<Arguments> schemasAndSeeds() {
        return Fixtures.SCHEMAS.stream().flatMap(s -> IntStream.range(0, 25).mapToObj(seed -> Arguments.of(s, seed)));
    }

    @ParameterizedTest
    @MethodSource("schemasAndSeeds")
    void schemaWalksEndInValidJson(String schemaText, int seed) throws Exception {
        Tekken tekken = Fixtures.smallTokenizer(TokenizerVersion.V13);
        JsonNode schema = json(schemaText);
        int[] tokens = Fixtures.walk(ConstraintCompiler.forTokenizer(tekken, LIMITS).jsonSchema(schema), tekken, seed, 2000);
        String text = Fixtures.text(tekken, tokens);
        JsonNode value = Fixtures.JSON.readTree(text);
        assertThat(JsonSubsetValidator.violations(value, schema)).as(text).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void jsonObjectWalksEndInAnObject(int seed) throws Exception {
        Tekken tekken = Fixtures.smallTokenizer(TokenizerVersion.V13);
        int[] tokens = Fixtures.walk(ConstraintCompiler.forTokenizer(tekken, LIMITS).jsonObject(), tekken, seed, 5000);
        assertThat(Fixtures.JSON.readTree(Fixtures.text(tekken, tokens)).isObject()).isTrue();
    }

    static Stream<Arguments> toolCases() {
        return Stream.of(TokenizerVersion.values()).flatMap(v -> Stream.of(
                        Arguments.of(v, null, true), Arguments.of(v, null, false), Arguments.of(v, "get", false),
                        Arguments.of(v, "search", true)))
                .flatMap(a -> IntStream.range(0, 8).mapToObj(seed -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], seed)));
    }

    @ParameterizedTest
    @MethodSource("toolCases")
    void toolCallWalksParseAsCallsWithValidArguments(TokenizerVersion version, String forced, boolean parallel, int seed)
            throws Exception {
        Tekken tekken = Fixtures.smallTokenizer(version);
        var constraint = ConstraintCompiler.forTokenizer(tekken, LIMITS).toolCalls(Fixtures.TOOLS, forced, parallel);
        int[] tokens = Fixtures.walk(constraint, tekken, seed, 5000);
        assertThat(tokens[0]).isEqualTo(tekken.specialId("[TOOL_CALLS]"));
        AssistantOutput output = OutputParser.parse(tekken, Arrays.copyOf(tokens, tokens.length - 1));
        assertThat(output.malformed()).as(tekken.decode(tokens, io.tramontane.tokenizer.SpecialTokenPolicy.KEEP)).isFalse();
        assertThat(output.content()).isEmpty();
        assertThat(output.toolCalls()).isNotEmpty().hasSizeLessThanOrEqualTo(parallel ? LIMITS.maxParallelCalls() : 1);
        for (ToolCall call : output.toolCalls()) {
            Tool tool = Fixtures.TOOLS.stream().filter(t -> t.name().equals(call.name())).findFirst().orElseThrow();
            if (forced != null) assertThat(call.name()).isEqualTo(forced);
            JsonNode arguments = Fixtures.JSON.readTree(call.arguments());
            assertThat(arguments.isObject()).isTrue();
            assertThat(JsonSubsetValidator.violations(arguments, tool.parameters())).as(call.arguments()).isEmpty();
        }
    }

    static IntStream seeds() {
        return IntStream.range(0, 25);
    }
}
