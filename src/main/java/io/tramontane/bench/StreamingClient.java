package io.tramontane.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Sends streamed requests to an OpenAI-compatible server and times their tokens as they arrive:
 * time to the first content chunk (TTFT), the gaps between content chunks (inter-token latency) and
 * the whole request. Token counts come from the final {@code usage} chunk where the server sends it.
 */
public final class StreamingClient implements AutoCloseable {

    public enum Endpoint {
        COMPLETIONS("/v1/completions"), CHAT("/v1/chat/completions");

        final String path;

        Endpoint(String path) {
            this.path = path;
        }
    }

    /**
     * @param ignoreEos ask the server to generate exactly {@code max_tokens} (vLLM's and our extension; OpenAI refuses it)
     */
    public record Target(String baseUrl, String model, String apiKey, Endpoint endpoint, boolean ignoreEos, Duration timeout) {
        /** The server root, whether given with or without a trailing {@code /v1}. */
        public Target {
            baseUrl = baseUrl.replaceAll("/+$", "").replaceAll("/v1$", "");
        }
    }

    /** One request's outcome; times in milliseconds, {@code error} null when it succeeded. */
    public record Result(String error, double ttftMs, double[] interTokenMs, double latencyMs, int promptTokens,
                         int outputTokens) {
        boolean ok() {
            return error == null;
        }
    }

    private final Target target;
    private final HttpClient http;

    public StreamingClient(Target target) {
        this.target = target;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).executor(Executors.newVirtualThreadPerTaskExecutor()).build();
    }

    /** The first model the server lists ({@code GET /v1/models}), for runs that did not name one. */
    public static String firstModel(Target target) throws IOException, InterruptedException {
        try (var client = new StreamingClient(target)) {
            var request = client.request("/v1/models").GET().build();
            HttpResponse<String> response = client.http.send(request, HttpResponse.BodyHandlers.ofString());
            JsonNode id = BenchJson.MAPPER.readTree(response.body()).at("/data/0/id");
            if (response.statusCode() != 200 || !id.isTextual()) {
                throw new IOException("GET " + target.baseUrl() + "/v1/models answered " + response.statusCode()
                        + " without a model id: give --model");
            }
            return id.asText();
        }
    }

    public Result send(ServeWorkload.Request r) {
        long start = System.nanoTime();
        try {
            var request = request(target.endpoint().path).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body(r))).build();
            HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
            try (Stream<String> lines = response.body()) {
                if (response.statusCode() != 200) {
                    return failed("HTTP " + response.statusCode() + ": " + lines.collect(Collectors.joining(" ")), start);
                }
                return read(lines.iterator(), start);
            }
        } catch (IOException | RuntimeException e) {
            return failed(e.getClass().getSimpleName() + ": " + e.getMessage(), start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed("interrupted", start);
        }
    }

    private Result read(Iterator<String> lines, long start) throws IOException {
        long first = -1, previous = -1;
        double[] gaps = new double[16];
        int chunks = 0, promptTokens = -1, outputTokens = -1;
        boolean done = false;
        while (lines.hasNext()) {
            String line = lines.next();
            if (!line.startsWith("data:")) continue;  // blank separators, comments, event names
            String data = line.substring(5).strip();
            if (data.equals("[DONE]")) {
                done = true;
                break;
            }
            long now = System.nanoTime();
            JsonNode chunk = BenchJson.MAPPER.readTree(data);
            if (chunk.has("error")) return failed("stream error: " + chunk.get("error"), start);
            JsonNode usage = chunk.get("usage");
            if (usage != null && usage.isObject()) {
                promptTokens = usage.path("prompt_tokens").asInt(-1);
                outputTokens = usage.path("completion_tokens").asInt(-1);
            }
            if (content(chunk).isEmpty()) continue;
            if (first < 0) first = now;
            else {
                if (chunks - 1 == gaps.length) gaps = Arrays.copyOf(gaps, gaps.length * 2);
                gaps[chunks - 1] = (now - previous) / 1e6;
            }
            previous = now;
            chunks++;
        }
        long end = System.nanoTime();
        if (!done) return failed("stream ended without [DONE]", start);
        if (first < 0) return failed("no content in the stream", start);
        return new Result(null, (first - start) / 1e6, Arrays.copyOf(gaps, chunks - 1), (end - start) / 1e6,
                promptTokens, outputTokens >= 0 ? outputTokens : chunks);
    }

    private String content(JsonNode chunk) {
        JsonNode choice = chunk.path("choices").path(0);
        JsonNode text = target.endpoint() == Endpoint.CHAT ? choice.path("delta").path("content") : choice.path("text");
        return text.isTextual() ? text.asText() : "";
    }

    private String body(ServeWorkload.Request r) {
        ObjectNode body = BenchJson.MAPPER.createObjectNode().put("model", target.model());
        if (target.endpoint() == Endpoint.CHAT) {
            body.putArray("messages").addObject().put("role", "user").put("content", r.prompt());
        } else {
            body.put("prompt", r.prompt());
        }
        body.put("max_tokens", r.maxTokens()).put("stream", true).put("temperature", 0);
        body.putObject("stream_options").put("include_usage", true);
        if (target.ignoreEos()) body.put("ignore_eos", true);
        return body.toString();
    }

    private HttpRequest.Builder request(String path) {
        var builder = HttpRequest.newBuilder(URI.create(target.baseUrl() + path)).timeout(target.timeout());
        if (target.apiKey() != null) builder.header("Authorization", "Bearer " + target.apiKey());
        return builder;
    }

    private static Result failed(String error, long start) {
        return new Result(error, Double.NaN, new double[0], (System.nanoTime() - start) / 1e6, -1, 0);
    }

    @Override
    public void close() {
        http.close();
    }
}
