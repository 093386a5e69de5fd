package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every refusal is a 4xx with OpenAI's error body naming the field at fault. */
class ErrorsTest extends LoopbackServerTest {
    static JsonNode error(HttpResponse<String> response, int status) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode body = TestServer.json(response);
        assertThat(body.fieldNames()).toIterable().containsExactly("error");
        JsonNode error = body.get("error");
        assertThat(error.fieldNames()).toIterable().containsExactlyInAnyOrder("message", "type", "param", "code");
        assertThat(error.get("message").asText()).isNotBlank();
        assertThat(error.get("type").asText()).isNotBlank();
        return error;
    }

    static final String MESSAGES = "\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            temperature as a string | "temperature": "hot"            | temperature
            negative temperature    | "temperature": -1               | temperature
            top_p above one         | "top_p": 1.5                    | top_p
            fractional max_tokens   | "max_tokens": 2.5               | max_tokens
            zero max_tokens         | "max_tokens": 0                 | max_tokens
            n of zero               | "n": 0                          | n
            stop as a number        | "stop": 3                       | stop
            stream as a string      | "stream": "yes"                 | stream
            top_logprobs alone      | "top_logprobs": 2               | top_logprobs
            too many top_logprobs   | "logprobs": true, "top_logprobs": 50 | top_logprobs
            penalty out of range    | "presence_penalty": 3           | presence_penalty
            unknown tool_choice     | "tool_choice": "sometimes"      | tool_choice
            required without tools  | "tool_choice": "required"       | tool_choice
            bad response_format     | "response_format": {"type": "yaml"} | response_format
            stream_options alone    | "stream_options": {"include_usage": true} | stream_options
            """)
    void aBadFieldIs400NamingIt(String name, String field, String param) throws Exception {
        JsonNode error = error(server.post("/v1/chat/completions", "{" + MESSAGES + ", " + field + "}"), 400);
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("param").asText()).isEqualTo(param);
    }

    @Test
    void badMessagesAre400NamingThePath() throws Exception {
        JsonNode error = error(server.post("/v1/chat/completions",
                "{\"messages\": [{\"role\": \"wizard\", \"content\": \"Hi\"}]}"), 400);
        assertThat(error.get("param").asText()).isEqualTo("messages[0].role");
        error(server.post("/v1/chat/completions", "{\"model\": \"demo\"}"), 400);
        error(server.post("/v1/chat/completions", "{\"messages\": \"Hi\"}"), 400);
    }

    @Test
    void malformedJsonIs400() throws Exception {
        error(server.post("/v1/chat/completions", "{\"messages\": ["), 400);
        error(server.post("/v1/chat/completions", "[1, 2]"), 400);
        error(server.post("/v1/chat/completions", ""), 400);
        error(server.post("/v1/completions", "not json"), 400);
    }

    @Test
    void anUnknownModelIs404() throws Exception {
        JsonNode error = error(server.post("/v1/chat/completions", "{\"model\": \"gpt-9\", " + MESSAGES + "}"), 404);
        assertThat(error.get("code").asText()).isEqualTo("model_not_found");
        assertThat(error.get("param").asText()).isEqualTo("model");
        error(server.get("/v1/models/gpt-9"), 404);
    }

    @Test
    void aPromptLongerThanTheContextIs400() throws Exception {
        int context = server.model.maxContext();
        String longText = "word ".repeat(context + 10);
        JsonNode error = error(server.post("/v1/chat/completions",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"" + longText + "\"}]}"), 400);
        assertThat(error.get("code").asText()).isEqualTo("context_length_exceeded");
        error(server.post("/v1/chat/completions", "{" + MESSAGES + ", \"max_tokens\": " + context + "}"), 400);
        error(server.post("/v1/completions", "{\"prompt\": \"" + longText + "\"}"), 400);
    }

    @Test
    void unknownPathsAre404AndWrongMethods405() throws Exception {
        error(server.get("/v1/nothing"), 404);
        error(server.get("/v1/chat/completions"), 405);
        error(server.post("/v1/models", "{}"), 405);
    }

    @Test
    void completionsTokenizeAndDetokenizeValidateToo() throws Exception {
        error(server.post("/v1/completions", "{\"prompt\": 5}"), 400);
        error(server.post("/v1/completions", "{\"prompt\": [1, -2]}"), 400);
        error(server.post("/v1/completions", "{\"prompt\": [1, 99999999]}"), 400);
        error(server.post("/v1/completions", "{\"prompt\": \"x\", \"logprobs\": 40}"), 400);
        error(server.post("/tokenize", "{}"), 400);
        error(server.post("/detokenize", "{\"tokens\": [\"a\"]}"), 400);
        error(server.post("/detokenize", "{\"tokens\": [99999999]}"), 400);
    }
}
