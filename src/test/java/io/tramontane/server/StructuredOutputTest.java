package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.tokenizer.instruct.ToolCallIds;
import org.junit.jupiter.api.Test;

/**
 * json_schema, json_object and forced tool calls on the demo model's random weights: over 50 seeds the
 * output always parses and matches the schema, because the constraint decides what may be sampled.
 */
class StructuredOutputTest extends LoopbackServerTest {
    static final String SCHEMA = """
            {"type": "object", "properties": {
              "name": {"type": "string", "maxLength": 12},
              "age": {"type": "integer"},
              "score": {"type": "number"},
              "admin": {"type": "boolean"},
              "color": {"type": "string", "enum": ["red", "green", "blue"]},
              "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 3},
              "address": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10}},
                          "required": ["city"], "additionalProperties": false},
              "nothing": {"type": "null"}},
             "required": ["name", "age", "color", "address"], "additionalProperties": false}""";
    static final String TOOLS = """
            [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["city", "unit"], "additionalProperties": false}}},
             {"type": "function", "function": {"name": "add", "parameters": {"type": "object",
               "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"],
               "additionalProperties": false}}}]""";

    static String request(int seed, String extra) {
        return "{\"messages\": [{\"role\": \"user\", \"content\": \"Describe someone\"}], \"temperature\": 1.0,"
                + " \"max_tokens\": 400, \"seed\": " + seed + ", " + extra + "}";
    }

    @Test
    void jsonSchemaOutputAlwaysValidatesOver50Seeds() throws Exception {
        for (int seed = 0; seed < 50; seed++) {
            var response = server.post("/v1/chat/completions", request(seed,
                    "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"person\", \"schema\": "
                            + SCHEMA + "}}"));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode choice = TestServer.json(response).get("choices").get(0);
            assertThat(choice.get("finish_reason").asText()).as("seed %d", seed).isEqualTo("stop");
            JsonNode person = TestServer.JSON.readTree(choice.get("message").get("content").asText());
            assertThat(person.fieldNames()).toIterable().contains("name", "age", "color", "address")
                    .isSubsetOf("name", "age", "score", "admin", "color", "tags", "address", "nothing");
            assertThat(person.get("name").isTextual()).isTrue();
            assertThat(person.get("age").isIntegralNumber()).isTrue();
            assertThat(person.get("color").asText()).isIn("red", "green", "blue");
            assertThat(person.get("address").fieldNames()).toIterable().containsExactly("city");
            if (person.has("score")) assertThat(person.get("score").isNumber()).isTrue();
            if (person.has("admin")) assertThat(person.get("admin").isBoolean()).isTrue();
            if (person.has("nothing")) assertThat(person.get("nothing").isNull()).isTrue();
            if (person.has("tags")) {
                assertThat(person.get("tags").size()).isLessThanOrEqualTo(3);
                for (JsonNode tag : person.get("tags")) assertThat(tag.isTextual()).isTrue();
            }
        }
    }

    @Test
    void forcedToolCallsAlwaysMatchTheirParametersOver50Seeds() throws Exception {
        for (int seed = 0; seed < 50; seed++) {
            String choice = seed % 2 == 0 ? "\"required\""
                    : "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}";
            var response = server.post("/v1/chat/completions", request(seed,
                    "\"tools\": " + TOOLS + ", \"tool_choice\": " + choice + ", \"parallel_tool_calls\": false"));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode answer = TestServer.json(response).get("choices").get(0);
            assertThat(answer.get("finish_reason").asText()).as("seed %d", seed).isEqualTo("tool_calls");
            JsonNode calls = answer.get("message").get("tool_calls");
            assertThat(calls).hasSize(1);
            JsonNode call = calls.get(0);
            assertThat(ToolCallIds.isValid(call.get("id").asText())).isTrue();
            assertThat(call.get("type").asText()).isEqualTo("function");
            String name = call.get("function").get("name").asText();
            JsonNode arguments = TestServer.JSON.readTree(call.get("function").get("arguments").asText());
            if (seed % 2 == 1) assertThat(name).isEqualTo("get_weather");
            if (name.equals("get_weather")) {
                assertThat(arguments.fieldNames()).toIterable().containsExactlyInAnyOrder("city", "unit");
                assertThat(arguments.get("unit").asText()).isIn("celsius", "fahrenheit");
            } else {
                assertThat(name).isEqualTo("add");
                assertThat(arguments.get("a").isIntegralNumber() && arguments.get("b").isIntegralNumber()).isTrue();
            }
        }
    }

    @Test
    void jsonObjectModeGivesAnObject() throws Exception {
        var response = server.post("/v1/chat/completions", request(1, "\"response_format\": {\"type\": \"json_object\"}"));
        String content = TestServer.json(response).get("choices").get(0).get("message").get("content").asText();
        assertThat(TestServer.JSON.readTree(content).isObject()).isTrue();
    }

    @Test
    void anUnsupportedSchemaKeywordIs400() throws Exception {
        var response = server.post("/v1/chat/completions", request(1,
                "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\", \"schema\":"
                        + " {\"type\": \"string\", \"pattern\": \"^a+$\"}}}"));
        JsonNode error = ErrorsTest.error(response, 400);
        assertThat(error.get("param").asText()).isEqualTo("response_format");
        assertThat(error.get("message").asText()).contains("pattern");
    }
}
