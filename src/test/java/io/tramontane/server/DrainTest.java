package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Stopping the server (what SIGTERM does through serve's shutdown hook) lets in-flight requests finish. */
@Timeout(60)
class DrainTest {
    @TempDir
    static Path cache;

    static CompletableFuture<HttpResponse<String>> postAsync(TestServer server, String body) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return server.post("/v1/chat/completions", body);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void stopWaitsForInFlightRequests() throws Exception {
        try (TestServer server = TestServer.start(cache, ServerOptions.loopback())) {
            String stream = "{\"messages\": [{\"role\": \"user\", \"content\": \"Go\"}], \"ignore_eos\": true,"
                    + " \"max_tokens\": 300, \"stream\": true}";
            String whole = stream.replace(", \"stream\": true", "");
            CompletableFuture<HttpResponse<String>> streamed = postAsync(server, stream);
            CompletableFuture<HttpResponse<String>> answered = postAsync(server, whole);
            String metrics;
            do {
                Thread.sleep(20);
                metrics = server.get("/metrics").body();
            } while (!metrics.contains("tramontane_requests_running 2"));
            server.server.stop();
            HttpResponse<String> response = streamed.get(30, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            List<JsonNode> events = TestServer.events(response.body());
            assertThat(events.getLast().get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
            JsonNode body = TestServer.json(answered.get(30, TimeUnit.SECONDS));
            assertThat(body.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
            assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(300);
        }
    }
}
