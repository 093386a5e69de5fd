package io.tramontane.tokenizer.instruct;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PythonJsonTest {

    /** Expected values are what CPython 3.12 prints for json.dumps(json.loads(input), ensure_ascii=False). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {"b":1,"a":[true,false,null]}      | {"b": 1, "a": [true, false, null]}
            {"x": 1.0, "y": -0.0, "z": 100}     | {"x": 1.0, "y": -0.0, "z": 100}
            [1e2, 1.5e-5, 0.0001, 123456789.125] | [100.0, 1.5e-05, 0.0001, 123456789.125]
            [1e16, 1e15, 2.5e-300, 0.1]          | [1e+16, 1000000000000000.0, 2.5e-300, 0.1]
            [12345678901234567890123]            | [12345678901234567890123]
            "été 日本 🙂"                         | "été 日本 🙂"
            "tab\\tnl\\nquote\\"back\\\\"        | "tab\\tnl\\nquote\\"back\\\\"
            "\\u0001\\u001f\\u007f"           | "\\u0001\\u001f\u007f"
            {"k": {}, "l": []}                   | {"k": {}, "l": []}
            """)
    void writesLikePythonJsonDumps(String input, String expected) {
        assertThat(PythonJson.dumps(PythonJson.parse(input).orElseThrow())).isEqualTo(expected);
    }

    @Test
    void lineSeparatorsStayUnescaped() {
        assertThat(PythonJson.dumps(PythonJson.parse("\"a\\u2028b\"").orElseThrow())).isEqualTo("\"a\u2028b\"");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"a": 1} x
            {oops
            ''
            """)
    void rejectsWhatIsNotExactlyOneJsonValue(String input) {
        assertThat(PythonJson.parse(input == null ? "" : input)).isEmpty();
    }
}
