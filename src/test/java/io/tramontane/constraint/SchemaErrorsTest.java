package io.tramontane.constraint;

import static io.tramontane.constraint.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.TokenizerVersion;
import io.tramontane.tokenizer.instruct.Tool;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What the compiler refuses, with the keyword and the place named (the server turns these into HTTP 400). */
class SchemaErrorsTest {
    private static final Tekken TEKKEN = Fixtures.smallTokenizer(TokenizerVersion.V13);
    private static final ConstraintCompiler COMPILER = ConstraintCompiler.forTokenizer(TEKKEN);

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"type": "string", "pattern": "^a"}                                               | pattern     | the schema root
            {"properties": {"n": {"type": "number", "minimum": 0}}}                            | minimum     | /properties/n
            {"oneOf": [{"type": "string"}]}                                                   | oneOf       | the schema root
            {"allOf": [{"type": "string"}]}                                                   | allOf       | the schema root
            {"type": "array", "uniqueItems": true}                                            | uniqueItems | the schema root
            {"type": "array", "items": [{"type": "string"}]}                                  | items       | the schema root
            {"type": "date"}                                                                  | type        | the schema root
            {"anyOf": [{"type": "object"}, {"properties": {"a": {}}}]}                        | anyOf       | the schema root
            {"type": ["integer", "string"], "enum": [true]}                                   | enum        | the schema root
            {"$ref": "https://example.com/s.json"}                                            | $ref        | the schema root
            {"$defs": {"n": {"properties": {"next": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"} | $ref   | /$defs/n/properties/next
            {"properties": {"a": {}}, "required": ["b"], "additionalProperties": false}        | required    | the schema root
            {"type": "string", "minLength": 3, "maxLength": 2}                                | maxLength   | the schema root
            {"type": "array", "minItems": -1}                                                 | minItems    | the schema root
            {"properties": {"a/b": false}}                                                    | false       | /properties/a~1b
            """)
    void unsupportedOrUnsatisfiableSchemasNameTheKeyword(String schema, String keyword, String where) {
        assertThatThrownBy(() -> COMPILER.jsonSchema(json(schema)))
                .isInstanceOf(ConstraintException.class)
                .hasMessageContaining("'" + keyword + "'")
                .hasMessageContaining(where)
                .satisfies(e -> org.assertj.core.api.Assertions.assertThat(((ConstraintException) e).keyword()).isEqualTo(keyword));
    }

    @Test
    void toolErrorsNameTheFunction() {
        List<Tool> tools = List.of(new Tool("f", "", json("{\"properties\": {\"x\": {\"pattern\": \"a\"}}}")));
        assertThatThrownBy(() -> COMPILER.toolCalls(tools, null, false))
                .isInstanceOf(ConstraintException.class).hasMessageContaining("function 'f'").hasMessageContaining("'pattern'");
        assertThatThrownBy(() -> COMPILER.toolCalls(Fixtures.TOOLS, "nope", false))
                .isInstanceOf(ConstraintException.class).hasMessageContaining("'nope'").hasMessageContaining("tool_choice");
        assertThatThrownBy(() -> COMPILER.toolCalls(List.of(), null, false)).isInstanceOf(ConstraintException.class);
        assertThatThrownBy(() -> COMPILER.toolCalls(List.of(new Tool("bad name", "", null)), null, false))
                .isInstanceOf(ConstraintException.class).hasMessageContaining("bad name");
    }

    @Test
    void annotationsAndUnknownKeywordsAreIgnored() {
        COMPILER.jsonSchema(json("""
                {"title": "T", "description": "d", "$schema": "https://json-schema.org/draft/2020-12/schema",
                 "type": "object", "properties": {"when": {"type": "string", "format": "date-time", "examples": ["x"]}},
                 "x-vendor": 1, "strict": true}"""));
    }
}
