package io.tramontane.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.api.Tramontane;
import io.tramontane.backend.KvCacheDtype;
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
