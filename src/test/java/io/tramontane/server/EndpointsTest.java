package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The endpoints besides chat: models, health, metrics, vLLM's tokenize/detokenize, legacy completions. */
class EndpointsTest extends LoopbackServerTest {
    @Test
    void modelsListTheServedModel() throws Exception {
        JsonNode list = TestServer.json(server.get("/v1/models"));
        assertThat(list.get("object").asText()).isEqualTo("list");
        JsonNode card = list.get("data").get(0);
        assertThat(card.get("id").asText()).isEqualTo("demo");
        assertThat(card.get("object").asText()).isEqualTo("model");
        assertThat(card.get("owned_by").asText()).isNotBlank();
        assertThat(card.get("max_model_len").asInt()).isEqualTo(server.model.maxContext());
        assertThat(TestServer.json(server.get("/v1/models/demo"))).isEqualTo(card);
    }

    @Test
    void healthIs200() throws Exception {
        assertThat(server.get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void metricsCountRequestsAndTokensInPrometheusText() throws Exception {
        server.post("/v1/chat/completions", ChatCompletionsTest.chat("\"ignore_eos\": true"));
        var response = server.get("/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain");
        assertThat(response.body()).contains(
                "tramontane_http_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}",
                "tramontane_prompt_tokens_total", "tramontane_generation_tokens_total",
                "tramontane_time_to_first_token_seconds_bucket", "tramontane_inter_token_latency_seconds_bucket",
                "tramontane_e2e_request_latency_seconds_count", "tramontane_requests_running 0",
                "tramontane_requests_waiting 0", "tramontane_kv_cache_usage_ratio", "tramontane_engine_sequences_running",
                "tramontane_kv_cache_blocks{state=\"total\"}", "tramontane_engine_preemptions_total",
                "tramontane_prefix_cache_tokens_total{result=\"hit\"}", "tramontane_step_sequences_bucket",
                "tramontane_step_tokens_count");
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() throws Exception {
        JsonNode tokens = TestServer.json(server.post("/tokenize",
                "{\"model\": \"demo\", \"prompt\": \"hello world\", \"return_token_strs\": true}"));
        var tekken = server.model.tokenizer().orElseThrow();
        assertThat(tokens.get("tokens").get(0).asInt()).isEqualTo(tekken.bosId());
        assertThat(tokens.get("count").asInt()).isEqualTo(tokens.get("tokens").size());
        assertThat(tokens.get("max_model_len").asInt()).isEqualTo(server.model.maxContext());
        assertThat(tokens.get("token_strs")).hasSize(tokens.get("count").asInt());

        JsonNode plain = TestServer.json(server.post("/tokenize", "{\"prompt\": \"hello world\", \"add_special_tokens\": false}"));
        assertThat(TestServer.json(server.post("/detokenize", "{\"tokens\": " + plain.get("tokens") + "}"))
                .get("prompt").asText()).isEqualTo("hello world");

        JsonNode chat = TestServer.json(server.post("/tokenize",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}"));
        assertThat(chat.get("tokens").get(1).asInt()).isEqualTo(tekken.specialId("[INST]"));
    }

    @Test
    void completionsGiveTextChoicesPerPromptAndN() throws Exception {
        JsonNode body = TestServer.json(server.post("/v1/completions",
                "{\"model\": \"demo\", \"prompt\": [\"Once\", \"Twice\"], \"n\": 2, \"max_tokens\": 4, \"ignore_eos\": true,"
                        + " \"logprobs\": 2, \"seed\": 5, \"echo\": true}"));
        assertThat(body.get("id").asText()).startsWith("cmpl-");
        assertThat(body.get("object").asText()).isEqualTo("text_completion");
        assertThat(body.get("choices")).hasSize(4);
        for (int i = 0; i < 4; i++) {
            JsonNode choice = body.get("choices").get(i);
            assertThat(choice.get("index").asInt()).isEqualTo(i);
            assertThat(choice.get("text").asText()).startsWith(i < 2 ? "Once" : "Twice");
            assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
            assertThat(choice.get("logprobs").get("tokens")).hasSize(4);
            assertThat(choice.get("logprobs").get("top_logprobs").get(0).size()).isBetween(1, 2);
        }
        assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(16);
    }

    @Test
    void completionsDefaultTo16TokensAndStreamWithUsage() throws Exception {
        JsonNode whole = TestServer.json(server.post("/v1/completions",
                "{\"prompt\": [1, 100, 101], \"ignore_eos\": true, \"seed\": 9}"));
        assertThat(whole.get("usage").get("completion_tokens").asInt()).isEqualTo(16);
        var streamed = server.post("/v1/completions", "{\"prompt\": [1, 100, 101], \"ignore_eos\": true, \"seed\": 9,"
                + " \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        List<JsonNode> events = TestServer.events(streamed.body());
        StringBuilder text = new StringBuilder();
        for (JsonNode event : events) {
            assertThat(event.get("object").asText()).isEqualTo("text_completion");
            for (JsonNode choice : event.get("choices")) text.append(choice.get("text").asText());
        }
        assertThat(text.toString()).isEqualTo(whole.get("choices").get(0).get("text").asText());
        assertThat(events.getLast().get("choices")).isEmpty();
        assertThat(events.getLast().get("usage")).isEqualTo(whole.get("usage"));
    }
}
