package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 64 concurrent streaming clients on loopback, 5 requests each, some of them killed mid-stream: every
 * completed stream is well formed and carries only its own request's tokens, the heap stays bounded, and
 * afterwards nothing is left running. Bounded in requests and time; stops by itself.
 */
@Timeout(120)
class LoadTest extends LoopbackServerTest {
    static final int CLIENTS = 64, REQUESTS_PER_CLIENT = 5, MAX_TOKENS = 16;
    static final String[] PROMPTS = {"Hello", "Tell me a story", "What is Java?", "Count to ten"};

    static String request(int prompt, boolean stream) {
        return "{\"messages\": [{\"role\": \"user\", \"content\": \"" + PROMPTS[prompt] + "\"}], \"temperature\": 0,"
                + " \"ignore_eos\": true, \"max_tokens\": " + MAX_TOKENS
                + (stream ? ", \"stream\": true, \"stream_options\": {\"include_usage\": true}" : "") + "}";
    }

    @Test
    void manyConcurrentStreamsStayApartAndComplete() throws Exception {
        // greedy answers, one at a time: under load every stream of a prompt must say exactly this
        List<String> expected = new ArrayList<>();
        for (int p = 0; p < PROMPTS.length; p++) {
            expected.add(TestServer.json(server.post("/v1/chat/completions", request(p, false)))
                    .get("choices").get(0).get("message").get("content").asText());
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();
        AtomicLong heapPeak = new AtomicLong();

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Set<String> ids = ConcurrentHashMap.newKeySet();
        List<String> failures = new CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        try (var clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                done.add(clients.submit(() -> {
                    for (int r = 0; r < REQUESTS_PER_CLIENT; r++) {
                        int prompt = (client + r) % PROMPTS.length;
                        try {
                            if (client % 8 == 0 && r == 1) {
                                killMidStream(request(prompt, true));
                                continue;
                            }
                            var response = http.send(HttpRequest.newBuilder(server.uri("/v1/chat/completions"))
                                    .timeout(Duration.ofSeconds(90)).header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(request(prompt, true))).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            check(response, expected.get(prompt), ids);
                        } catch (Throwable e) {
                            failures.add("client " + client + " request " + r + ": " + e);
                        }
                        heapPeak.accumulateAndGet(liveHeap(), Math::max);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get(100, TimeUnit.SECONDS);
        }
        assertThat(failures).isEmpty();
        assertThat(ids).hasSize(CLIENTS * REQUESTS_PER_CLIENT - CLIENTS / 8);
        System.out.printf("load: %d streams in %.1f s, heap %d MB before, peak live %d MB%n", ids.size(),
                (System.nanoTime() - start) / 1e9, heapBefore >> 20, heapPeak.get() >> 20);

        // killed clients left nothing behind: no request running or waiting, and the heap is back down
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String metrics;
        do {
            Thread.sleep(20);
            metrics = server.get("/metrics").body();
        } while (!(metrics.contains("tramontane_requests_running 0") && metrics.contains("tramontane_requests_waiting 0"))
                && System.nanoTime() < deadline);
        assertThat(metrics).contains("tramontane_requests_running 0", "tramontane_requests_waiting 0");
        System.gc();
        assertThat(memory.getHeapMemoryUsage().getUsed() - heapBefore).isLessThan(64L << 20);
        assertThat(heapPeak.get()).isLessThan(heapBefore + (256L << 20));
    }

    /** The heap in use right after the last collections: live data, not garbage waiting for the next GC. */
    static long liveHeap() {
        long used = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
                used += pool.getCollectionUsage().getUsed();
            }
        }
        return used;
    }

    /** A well-formed stream of one request: one id, role first, the prompt's greedy answer, usage, [DONE]. */
    static void check(HttpResponse<String> response, String expected, Set<String> ids) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        List<JsonNode> events = TestServer.events(response.body());
        String id = events.getFirst().get("id").asText();
        assertThat(ids.add(id)).as("id %s reused", id).isTrue();
        StringBuilder content = new StringBuilder();
        for (JsonNode event : events) {
            assertThat(event.get("id").asText()).isEqualTo(id);
            for (JsonNode choice : event.get("choices")) {
                assertThat(choice.get("index").asInt()).isZero();
                JsonNode text = choice.get("delta").get("content");
                if (text != null) content.append(text.asText());
            }
        }
        assertThat(content.toString()).isEqualTo(expected);
        assertThat(events.get(events.size() - 2).get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
        assertThat(events.getLast().get("usage").get("completion_tokens").asInt()).isEqualTo(MAX_TOKENS);
    }

    /** Opens a stream on a raw socket, reads its first event and drops the connection. */
    static void killMidStream(String body) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
            OutputStream out = socket.getOutputStream();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) if (line.startsWith("data: ")) break;
        }
    }
}
