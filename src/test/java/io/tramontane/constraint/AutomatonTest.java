package io.tramontane.constraint;

import static io.tramontane.constraint.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The byte-level automaton compiled from schemas: whole valid outputs are accepted, invalid ones die at the right byte. */
class AutomatonTest {
    private static final ConstraintLimits LIMITS = new ConstraintLimits(20, 4, 2, 3, 3, 3, 2);

    /** Reads {@code text}; returns the number of bytes read before the automaton died, or -1 if it read all. */
    static int deadAt(Node root, byte[] text) {
        State s = State.EMPTY.push(root.start());
        for (int i = 0; i < text.length; i++) if ((s = s.read(text[i] & 0xFF)) == null) return i;
        return -1;
    }

    static boolean accepts(Node root, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        State s = State.EMPTY.push(root.start());
        for (byte x : b) if ((s = s.read(x & 0xFF)) == null) return false;
        return s.canEnd();
    }

    static Node schema(String schema) {
        return new SchemaCompiler(LIMITS, json(schema)).compile();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"name\": \"Ann\", \"age\": 41, \"tags\": [\"red\"], \"kind\": \"person\"}",
            "{\"name\":\"Ann\",\"age\":-0,\"score\":3.25,\"active\":false,\"nickname\":null,\"tags\":[\"red\", \"blue\",\"red\"],"
                    + "\"address\":{\"city\":\"Zürich\"},\"kind\":\"person\",\"extra\":[true, false]}",
            "{\"name\": \"\\u00e9\\n\\\"😀\", \"age\": 7, \"tags\": [\"green\"], \"kind\": \"person\", \"extra\": 12}",
    })
    void acceptsValidPersons(String text) {
        assertThat(accepts(schema(Fixtures.PERSON), text)).isTrue();
        assertThat(JsonSubsetValidator.violations(json(text), json(Fixtures.PERSON))).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"age": 1                                    | 2
            { "name"                                     | 1
            {"name":  "a"                                | 9
            {"name": ""                                  | 10
            {"name": "Ann", "age": 1.5                   | 24
            {"name": "Ann", "age": 01                    | 24
            {"name": "Ann", "age": 12345                 | 27
            {"name": "Ann", "age": 1, "kind"             | 27
            {"name": "Ann", "age": 1, "tags": []         | 35
            {"name": "Ann", "age": 1, "tags": ["pink"]   | 36
            {"name": "Ann", "age": 1, "tags": ["red",]   | 41
            {"name": "a\\x"                              | 12
            {"name": "a\\ud800"                          | 14
            {"name": "abcdefghijklm                      | 22
            {"name": "Ann", "name"                       | 17
            """)
    void rejectsInvalidPrefixesAtTheFirstBadByte(String text, int at) {
        assertThat(deadAt(schema(Fixtures.PERSON), text.getBytes(StandardCharsets.UTF_8))).as(text).isEqualTo(at);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            C0 80       | 0
            E0 80 80    | 1
            ED A0 80    | 1
            F4 90 80 80 | 1
            F8          | 0
            C3 28       | 1
            1F          | 0
            """)
    void stringsRejectMalformedUtf8AndControlCharacters(String hex, int at) {
        String[] parts = hex.split(" ");
        byte[] text = new byte[parts.length + 1];
        text[0] = '"';
        for (int i = 0; i < parts.length; i++) text[i + 1] = (byte) Integer.parseInt(parts[i], 16);
        assertThat(deadAt(schema("{\"type\": \"string\"}"), text)).isEqualTo(at + 1);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"type": "integer"}                                   | 12     | true
            {"type": "integer"}                                   | -0     | true
            {"type": "integer"}                                   | 1.0    | false
            {"type": "number"}                                    | 1.25   | true
            {"type": "number"}                                    | 1.      | false
            {"type": "number"}                                    | 1e5    | false
            {"type": "boolean"}                                   | true   | true
            {"type": ["string", "null"]}                          | null   | true
            {"enum": [1, 12, "a", [1], {"b": null}]}              | 1      | true
            {"enum": [1, 12, "a", [1], {"b": null}]}              | 12     | true
            {"enum": [1, 12, "a", [1], {"b": null}]}              | {"b":null} | true
            {"enum": [1, 12, "a", [1], {"b": null}]}              | 2      | false
            {"type": "string", "enum": [1, "a"]}                  | 1      | false
            {"type": "array", "minItems": 2}                      | [1]    | false
            {"type": "array", "minItems": 2}                      | [1, {"a": [null]}] | true
            {"type": "object", "additionalProperties": false}     | {}     | true
            {"type": "object", "additionalProperties": false}     | {"a":1} | false
            {"type": "object"}                                    | {"a": {"b": [true, "x"]}} | true
            {"type": "object"}                                    | {"a": {"b": {"c": {}}}} | false
            {"properties": {"a": {}}}                             | {"a": [1, "x"]} | true
            {"properties": {"a": {}}}                             | {"b": 1} | false
            {"properties": {"a": {}, "b": {}}, "required": ["b"]} | {"b": 1, "a": 2} | false
            {"properties": {"a": {}}, "required": ["c"]}          | {"a": 1, "c": 2} | true
            """)
    void schemaSubset(String schema, String text, boolean accepted) {
        assertThat(accepts(schema(schema), text)).as("%s on %s", text, schema).isEqualTo(accepted);
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1, 2, 3]", "[1, 2, 3, 4]"})
    void arraysStopAtTheCap(String text) {
        assertThat(accepts(schema("{\"type\": \"array\", \"items\": {\"type\": \"integer\"}}"), text))
                .isEqualTo(text.equals("[1, 2, 3]"));
    }
}
