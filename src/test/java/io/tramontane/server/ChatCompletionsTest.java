package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Chat completions over raw HTTP on the demo model: OpenAI's shapes, SSE framing, n, logprobs, stops. */
class ChatCompletionsTest extends LoopbackServerTest {
    static String chat(String extra) {
        return "{\"model\": \"demo\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 8"
                + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    @Test
    void aResponseHasOpenAisShape() throws Exception {
        var response = server.post("/v1/chat/completions", chat("\"seed\": 1, \"user\": \"ignored\", \"unknown\": 3"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode body = TestServer.json(response);
        assertThat(body.get("id").asText()).startsWith("chatcmpl-");
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        assertThat(body.get("created").asLong()).isPositive();
        assertThat(body.get("model").asText()).isEqualTo("demo");
        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").isTextual()).isTrue();
        assertThat(choice.get("finish_reason").asText()).isIn("stop", "length", "tool_calls");
        assertThat(choice.get("logprobs").isNull()).isTrue();
        JsonNode usage = body.get("usage");
        assertThat(usage.get("completion_tokens").asInt()).isBetween(1, 8);
        assertThat(usage.get("total_tokens").asInt())
                .isEqualTo(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt());
    }

    @Test
    void aSeedReproducesTheAnswerAndNGivesDistinctChoices() throws Exception {
        String request = chat("\"seed\": 7, \"temperature\": 1.0, \"n\": 3, \"ignore_eos\": true");
        JsonNode first = TestServer.json(server.post("/v1/chat/completions", request));
        JsonNode second = TestServer.json(server.post("/v1/chat/completions", request));
        assertThat(first.get("choices")).hasSize(3);
        assertThat(first.get("choices")).isEqualTo(second.get("choices"));
        for (int i = 0; i < 3; i++) assertThat(first.get("choices").get(i).get("index").asInt()).isEqualTo(i);
        assertThat(first.get("usage").get("completion_tokens").asInt()).isEqualTo(24);
    }

    @Test
    void maxTokensEndsWithLength() throws Exception {
        JsonNode body = TestServer.json(server.post("/v1/chat/completions",
                chat("\"ignore_eos\": true, \"max_completion_tokens\": 5")));
        assertThat(body.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
        assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(5);
    }

    @Test
    void aStreamIsWellFramedAndMatchesTheWholeAnswer() throws Exception {
        String options = "\"seed\": 3, \"temperature\": 0.8, \"ignore_eos\": true";
        JsonNode whole = TestServer.json(server.post("/v1/chat/completions", chat(options)));
        var response = server.post("/v1/chat/completions", chat(options + ", \"stream\": true"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type").orElseThrow()).startsWith("text/event-stream");
        List<JsonNode> events = TestServer.events(response.body());
        assertThat(events.getFirst().get("choices").get(0).get("delta").get("role").asText()).isEqualTo("assistant");
        StringBuilder content = new StringBuilder();
        String id = events.getFirst().get("id").asText();
        for (JsonNode event : events) {
            assertThat(event.get("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(event.get("id").asText()).isEqualTo(id);
            assertThat(event.has("usage")).isFalse();
            JsonNode delta = event.get("choices").get(0).get("delta");
            if (delta.has("content")) content.append(delta.get("content").asText());
        }
        JsonNode last = events.getLast().get("choices").get(0);
        assertThat(last.get("finish_reason").asText()).isEqualTo("length");
        assertThat(last.get("delta").isEmpty()).isTrue();
        assertThat(content.toString()).isEqualTo(whole.get("choices").get(0).get("message").get("content").asText());
    }

    @Test
    void includeUsageAddsAFinalChunkWithoutChoices() throws Exception {
        var response = server.post("/v1/chat/completions",
                chat("\"stream\": true, \"n\": 2, \"stream_options\": {\"include_usage\": true}"));
        List<JsonNode> events = TestServer.events(response.body());
        for (JsonNode event : events.subList(0, events.size() - 1)) assertThat(event.get("usage").isNull()).isTrue();
        JsonNode last = events.getLast();
        assertThat(last.get("choices")).isEmpty();
        assertThat(last.get("usage").get("prompt_tokens").asInt()).isPositive();
        List<Integer> finished = new ArrayList<>();
        for (JsonNode event : events) {
            for (JsonNode choice : event.get("choices")) {
                if (!choice.get("finish_reason").isNull()) finished.add(choice.get("index").asInt());
            }
        }
        assertThat(finished).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void logprobsListEveryTokenWithItsAlternatives() throws Exception {
        JsonNode body = TestServer.json(server.post("/v1/chat/completions",
                chat("\"logprobs\": true, \"top_logprobs\": 3, \"ignore_eos\": true")));
        JsonNode content = body.get("choices").get(0).get("logprobs").get("content");
        assertThat(content).hasSize(body.get("usage").get("completion_tokens").asInt());
        for (JsonNode entry : content) {
            assertThat(entry.get("token").isTextual()).isTrue();
            assertThat(entry.get("logprob").asDouble()).isLessThanOrEqualTo(0);
            assertThat(entry.get("bytes").isArray()).isTrue();
            assertThat(entry.get("top_logprobs")).hasSize(3);
        }
    }

    @Test
    void aStopStringIsCutFromTheAnswer() throws Exception {
        String options = "\"seed\": 11, \"temperature\": 1.0, \"ignore_eos\": true, \"max_tokens\": 40";
        String free = TestServer.json(server.post("/v1/chat/completions", chat(options)))
                .get("choices").get(0).get("message").get("content").asText();
        assertThat(free.length()).isGreaterThan(6);
        String stop = free.substring(4, 6);
        String expected = free.substring(0, free.indexOf(stop));
        JsonNode stopped = TestServer.json(server.post("/v1/chat/completions",
                chat(options + ", \"stop\": " + TestServer.JSON.writeValueAsString(stop))));
        assertThat(stopped.get("choices").get(0).get("message").get("content").asText()).isEqualTo(expected);
        assertThat(stopped.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");

        var streamed = server.post("/v1/chat/completions",
                chat(options + ", \"stream\": true, \"stop\": [" + TestServer.JSON.writeValueAsString(stop) + "]"));
        StringBuilder content = new StringBuilder();
        for (JsonNode event : TestServer.events(streamed.body())) {
            JsonNode delta = event.get("choices").get(0).get("delta");
            if (delta.has("content")) content.append(delta.get("content").asText());
        }
        assertThat(content.toString()).isEqualTo(expected);
    }
}
