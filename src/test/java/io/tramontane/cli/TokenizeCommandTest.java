package io.tramontane.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.testing.SharedFixtures;
import io.tramontane.tokenizer.Tekken;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TokenizeCommandTest {

    record Result(int exitCode, String out, String err) {}

    private static Result run(String stdin, String... args) {
        InputStream original = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            StringWriter out = new StringWriter(), err = new StringWriter();
            int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
            return new Result(code, out.toString(), err.toString());
        } finally {
            System.setIn(original);
        }
    }

    private static Path v13() {
        return SharedFixtures.resolve("tekken/tekken-v13.json");
    }

    @Test
    void jsonlAnswersEveryLineInOrderAndSurvivesBadLines() {
        String input = String.join("\n",
                "{\"text\": \"Hello world\"}",
                "this is not json",
                "{\"chat\": {\"messages\": [{\"role\": \"user\", \"content\": \"Hi!\"}]}}",
                "{\"decode\": [1, 3, 37133, 1033, 4], \"policy\": \"ignore\"}",
                "{\"decode\": [1, 3, 37133, 1033, 4]}",
                "{\"chat\": {\"messages\": []}}",
                "{\"text\": \"été 🙂\"}",
                "{\"decode\": [1195, 1169]}",
                "{\"what\": 1}") + "\n";
        Result result = run(input, "tokenize", "--tokenizer", v13().toString(), "--jsonl");

        assertThat(result.exitCode()).isZero();
        String[] lines = result.out().split("\n");
        assertThat(lines).hasSize(9);
        assertThat(lines[0]).isEqualTo("{\"ids\":[22177,4304]}");
        assertThat(lines[1]).startsWith("{\"error\":\"not valid JSON");
        assertThat(lines[2]).isEqualTo("{\"ids\":[1,3,37133,1033,4]}");
        assertThat(lines[3]).isEqualTo("{\"text\":\"Hi!\"}");
        assertThat(lines[4]).isEqualTo("{\"text\":\"<s>[INST]Hi![/INST]\"}");
        assertThat(lines[5]).isEqualTo("{\"error\":\"messages: must not be empty\"}");
        assertThat(lines[6]).startsWith("{\"ids\":[");
        assertThat(lines[7]).isEqualTo("{\"text\":\"\\u00E9\"}");
        assertThat(lines[8]).isEqualTo("{\"error\":\"expected one of the keys text, chat, decode\"}");
    }

    @Test
    void textArgumentIsShownWithIdsAndPieces() throws Exception {
        Result result = run("", "tokenize", "--tokenizer", v13().toString(), "Hello world\n");
        assertThat(result.exitCode()).isZero();
        int[] ids = Tekken.load(v13()).encode("Hello world\n");
        assertThat(result.out()).contains("22177 4304").contains("'Hello'").contains("' world'").contains("'\\n'");
        assertThat(result.out()).startsWith(ids.length + " tokens (v13");
    }

    @Test
    void userErrorsExitWithTwo() {
        assertThat(run("", "tokenize", "--tokenizer", "/no/such/tekken.json", "x").exitCode()).isEqualTo(Main.EXIT_USAGE);
        Result neither = run("", "tokenize", "--tokenizer", v13().toString());
        assertThat(neither.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(neither.err()).contains("either the text to tokenize or --jsonl");
    }
}
