package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.api.Tramontane;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.engine.EngineStats;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The demo model behind a real server on a loopback port, and a raw HTTP client for it. */
final class TestServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final Tramontane model;
    final OpenAiServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private TestServer(Tramontane model, OpenAiServer server) {
        this.model = model;
        this.server = server;
    }

    static TestServer start(Path cache, ServerOptions options) throws Exception {
        return start(cache, options, Tramontane.Options.defaults().maxSequences());
    }

    /** @param maxSequences sequences the engine runs at once (1 makes a leaked sequence block every later request) */
    static TestServer start(Path cache, ServerOptions options, int maxSequences) throws Exception {
        System.setProperty("tramontane.cache", cache.toString());
        var defaults = Tramontane.Options.defaults();
        // an F32 KV cache: the demo model's weights are random, so whether a structured-output answer closes its JSON
        // within max_tokens depends on the exact trajectory, and these tests' seeds and limits were chosen on this one
        Tramontane model = Tramontane.open("demo", new Tramontane.Options(2, 1, defaults.kvCacheBytes(), maxSequences,
                defaults.staticActivationFp8()).withKvCacheDtype(KvCacheDtype.F32));
        try {
            return new TestServer(model, OpenAiServer.start(model, options));
        } catch (Exception e) {
            model.close();
            throw e;
        }
    }

    String base() {
        return "http://127.0.0.1:" + server.port();
    }

    URI uri(String path) {
        return URI.create(base() + path);
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        var request = HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) request.headers(headers);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Slows every engine step by {@code millis} (replacing the server's metrics observer), so a generation
     * to the demo model's 4096-token context lasts at least 4.096 s per millisecond however fast the kernels get.
     */
    void slowSteps(long millis) {
        model.observeSteps((sequences, tokens, nanos) -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /**
     * A test's proof that a request it ended freed its sequence: the engine holds none within {@code limit} (well
     * short of how long a leaked one would keep running), and a short request then answers 200.
     */
    void assertSequenceFreed(Duration limit, String... headers) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        for (EngineStats stats; (stats = model.stats()).running() + stats.waiting() > 0; Thread.sleep(5)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the engine still holds a sequence " + limit.toSeconds() + " s later: "
                        + stats);
            }
        }
        var next = post("/v1/chat/completions", ChatCompletionsTest.chat(""), headers);
        assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
    }

    static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    /** The JSON of every {@code data:} event of an SSE body, checking the framing; {@code [DONE]} must end it. */
    static List<JsonNode> events(String body) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        String[] blocks = body.split("\n\n", -1);
        if (!blocks[blocks.length - 1].isEmpty()) throw new AssertionError("stream does not end with a blank line");
        if (!blocks[blocks.length - 2].equals("data: [DONE]")) throw new AssertionError("stream does not end with [DONE]");
        for (int i = 0; i < blocks.length - 2; i++) {
            if (!blocks[i].startsWith("data: ") || blocks[i].contains("\n")) {
                throw new AssertionError("not one data line: " + blocks[i]);
            }
            events.add(JSON.readTree(blocks[i].substring(6)));
        }
        return events;
    }

    @Override
    public void close() throws Exception {
        try {
            server.close();
        } finally {
            model.close();
            System.clearProperty("tramontane.cache");
        }
    }
}
