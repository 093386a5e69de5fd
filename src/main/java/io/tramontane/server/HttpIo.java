package io.tramontane.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;

/** Blocking JSON in and out of Jetty requests (handlers run on virtual threads, so blocking is cheap). */
final class HttpIo {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String JSON_TYPE = "application/json";

    private HttpIo() {}

    /** The body as a JSON object; 413 past {@code limit} bytes (checked before reading when the length is declared). */
    static JsonNode readJsonObject(Request request, long limit) throws IOException {
        long declared = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        if (declared > limit) throw ApiError.tooLarge(limit);
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(request)) {
            body = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
        }
        if (body.length > limit) throw ApiError.tooLarge(limit);
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JacksonException e) {
            throw ApiError.invalid(null, "We could not parse the JSON body of your request: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw ApiError.invalid(null, "The request body must be a JSON object.");
        return root;
    }

    static void writeJson(Response response, int status, JsonNode body) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
        write(response, true, JSON.writeValueAsBytes(body));
    }

    static void writeText(Response response, int status, String contentType, String text) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        write(response, true, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes and waits until the bytes are handed to the network; a gone client fails with an IOException. */
    static void write(Response response, boolean last, byte[] bytes) throws IOException {
        try (Blocker.Callback callback = Blocker.callback()) {
            response.write(last, ByteBuffer.wrap(bytes), callback);
            callback.block();
        }
    }
}
