package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.tokenizer.instruct.ToolCallIds;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tool calls over raw HTTP: streamed as OpenAI argument deltas, and tool messages rendered into the next prompt. */
class ToolCallsTest extends LoopbackServerTest {
    static final String REQUEST = "{\"messages\": [{\"role\": \"user\", \"content\": \"Weather?\"}], \"seed\": 4,"
            + " \"temperature\": 1.0, \"max_tokens\": 200, \"tools\": " + StructuredOutputTest.TOOLS
            + ", \"parallel_tool_calls\": false, \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}";

    @Test
    void aStreamedToolCallOpensWithIdAndNameThenStreamsArguments() throws Exception {
        JsonNode whole = TestServer.json(server.post("/v1/chat/completions", REQUEST + "}"))
                .get("choices").get(0).get("message").get("tool_calls").get(0);
        List<JsonNode> events = TestServer.events(server.post("/v1/chat/completions", REQUEST + ", \"stream\": true}").body());
        JsonNode opening = null;
        StringBuilder arguments = new StringBuilder();
        int argumentChunks = 0;
        for (JsonNode event : events) {
            JsonNode calls = event.get("choices").get(0).get("delta").get("tool_calls");
            if (calls == null) continue;
            JsonNode call = calls.get(0);
            assertThat(call.get("index").asInt()).isZero();
            if (opening == null) {
                opening = call;
                assertThat(call.get("type").asText()).isEqualTo("function");
            } else {
                assertThat(call.has("id")).isFalse();
                argumentChunks++;
            }
            arguments.append(call.get("function").get("arguments").asText());
        }
        assertThat(opening).isNotNull();
        assertThat(ToolCallIds.isValid(opening.get("id").asText())).isTrue();
        assertThat(opening.get("function").get("name").asText()).isEqualTo("get_weather");
        assertThat(argumentChunks).isGreaterThan(1);
        assertThat(arguments.toString()).isEqualTo(whole.get("function").get("arguments").asText());
        assertThat(events.getLast().get("choices").get(0).get("finish_reason").asText()).isEqualTo("tool_calls");
    }

    @Test
    void assistantToolCallsAndToolResultsAreRenderedIntoThePrompt() throws Exception {
        String conversation = "{\"messages\": [{\"role\": \"user\", \"content\": \"Weather in Paris?\"},"
                + " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"abcDEF123\", \"type\": \"function\","
                + "  \"function\": {\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\", \\\"unit\\\": \\\"celsius\\\"}\"}}]},"
                + " {\"role\": \"tool\", \"tool_call_id\": \"abcDEF123\", \"content\": \"22 degrees\"}],"
                + " \"tools\": " + StructuredOutputTest.TOOLS + "}";
        JsonNode tokens = TestServer.json(server.post("/tokenize", conversation));
        var tekken = server.model.tokenizer().orElseThrow();
        List<Integer> ids = new java.util.ArrayList<>();
        tokens.get("tokens").forEach(id -> ids.add(id.asInt()));
        assertThat(ids).contains(tekken.specialId("[AVAILABLE_TOOLS]"), tekken.specialId("[TOOL_CALLS]"),
                tekken.specialId("[TOOL_RESULTS]"));
        String answer = conversation.substring(0, conversation.length() - 1) + ", \"max_tokens\": 6}";
        assertThat(server.post("/v1/chat/completions", answer).statusCode()).isEqualTo(200);
    }

    @Test
    void toolChoiceNoneLeavesTheToolsOutOfThePrompt() throws Exception {
        String base = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 4, \"tools\": "
                + StructuredOutputTest.TOOLS;
        var none = TestServer.json(server.post("/v1/chat/completions", base + ", \"tool_choice\": \"none\"}"));
        var auto = TestServer.json(server.post("/v1/chat/completions", base + "}"));
        assertThat(none.get("usage").get("prompt_tokens").asInt())
                .isLessThan(auto.get("usage").get("prompt_tokens").asInt());
    }
}
