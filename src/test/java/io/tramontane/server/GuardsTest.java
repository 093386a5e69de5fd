package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * API key, body limit, CORS and the request timeout, on an engine that runs one sequence at a time: a
 * generation that were not cancelled would hold every later request up.
 */
@Timeout(60)
class GuardsTest {
    static final String KEY = "sk-test-key";
    static final String LONG = "{\"messages\": [{\"role\": \"user\", \"content\": \"Go\"}], \"ignore_eos\": true";

    @TempDir
    static Path cache;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(cache, ServerOptions.loopback().withApiKey(KEY)
                .withLimits(4096, Duration.ofSeconds(2)).withCorsOrigin("https://app.example"), 1);
        // a generation to the demo model's context lasts 20 s or more: far past the 2 s timeout, and long
        // enough that one the timeout failed to cancel shows against the 10 s a freed one may take on a loaded host
        server.slowSteps(5);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    static String[] auth() {
        return new String[] {"Authorization", "Bearer " + KEY};
    }

    @Test
    void v1NeedsTheKeyButHealthAndMetricsDoNot() throws Exception {
        String body = ChatCompletionsTest.chat("");
        var missing = server.post("/v1/chat/completions", body);
        assertThat(ErrorsTest.error(missing, 401).get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(missing.headers().firstValue("www-authenticate")).hasValue("Bearer");
        ErrorsTest.error(server.post("/v1/chat/completions", body, "Authorization", "Bearer wrong"), 401);
        ErrorsTest.error(server.get("/v1/models"), 401);
        assertThat(server.post("/v1/chat/completions", body, auth()).statusCode()).isEqualTo(200);
        assertThat(server.get("/health").statusCode()).isEqualTo(200);
        assertThat(server.get("/metrics").statusCode()).isEqualTo(200);
    }

    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        String big = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "x".repeat(5000) + "\"}]}";
        ErrorsTest.error(server.post("/v1/chat/completions", big, auth()), 413);
        // without a declared length (chunked), the limit holds while reading
        var chunked = HttpRequest.newBuilder(server.uri("/v1/chat/completions")).headers(auth())
                .POST(HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))).build();
        ErrorsTest.error(server.http.send(chunked, HttpResponse.BodyHandlers.ofString()), 413);
    }

    @Test
    void corsAnswersTheConfiguredOriginOnly() throws Exception {
        var preflight = server.http.send(HttpRequest.newBuilder(server.uri("/v1/chat/completions"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(preflight.statusCode()).isEqualTo(204);
        assertThat(preflight.headers().firstValue("access-control-allow-origin")).hasValue("https://app.example");
        assertThat(preflight.headers().firstValue("access-control-allow-headers").orElseThrow()).contains("Authorization");
        var other = server.http.send(HttpRequest.newBuilder(server.uri("/health")).header("Origin", "https://evil.example")
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(other.headers().firstValue("access-control-allow-origin")).isEmpty();
    }

    @Test
    void corsIsOffByDefault() throws Exception {
        assertThat(ServerOptions.loopback().corsOrigin()).isNull();
    }

    @Test
    void aRequestPastTheTimeoutIs408AndFreesItsSequence() throws Exception {
        ErrorsTest.error(server.post("/v1/chat/completions", LONG + "}", auth()), 408);
        var streamed = server.post("/v1/chat/completions", LONG + ", \"stream\": true}", auth());
        List<JsonNode> events = TestServer.events(streamed.body());
        assertThat(events.getLast().get("error").get("code").asText()).isEqualTo("request_timeout");
        server.assertSequenceFreed(Duration.ofSeconds(10), auth());
    }

}
