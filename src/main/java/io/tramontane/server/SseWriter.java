package io.tramontane.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;

/**
 * Server-sent events as OpenAI streams them: one {@code data: <json>} event per chunk, flushed at once,
 * and {@code data: [DONE]} last. A write to a client that went away throws, which ends the request.
 */
final class SseWriter {
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final Response response;

    SseWriter(Response response) {
        this.response = response;
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        // proxies such as nginx would otherwise buffer the stream
        response.getHeaders().put("X-Accel-Buffering", "no");
    }

    void send(JsonNode chunk) throws IOException {
        byte[] json = HttpIo.JSON.writeValueAsBytes(chunk);
        byte[] event = new byte[json.length + 8];
        System.arraycopy("data: ".getBytes(StandardCharsets.US_ASCII), 0, event, 0, 6);
        System.arraycopy(json, 0, event, 6, json.length);
        event[event.length - 2] = '\n';
        event[event.length - 1] = '\n';
        HttpIo.write(response, false, event);
    }

    void done() throws IOException {
        HttpIo.write(response, true, DONE);
    }
}
