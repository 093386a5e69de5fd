package io.tramontane.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server refuses, carried to the router, which writes it as OpenAI's error body
 * {@code {"error": {"message", "type", "param", "code"}}} with {@code status}.
 *
 * @param param the request field at fault, or null
 * @param code  OpenAI's machine-readable code (e.g. {@code model_not_found}), or null
 */
final class ApiError extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;

    ApiError(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", message, param, null);
    }

    static ApiError contextLength(String message) {
        return new ApiError(400, "invalid_request_error", message, "messages", "context_length_exceeded");
    }

    static ApiError unauthorized() {
        return new ApiError(401, "invalid_request_error", "Incorrect API key provided: send 'Authorization: Bearer <key>'.",
                null, "invalid_api_key");
    }

    static ApiError modelNotFound(String model) {
        return new ApiError(404, "invalid_request_error", "The model '" + model + "' does not exist.", "model",
                "model_not_found");
    }

    static ApiError notFound(String path) {
        return new ApiError(404, "invalid_request_error", "Unknown path: " + path, null, "not_found");
    }

    static ApiError methodNotAllowed(String method, String path) {
        return new ApiError(405, "invalid_request_error", method + " is not allowed on " + path, null,
                "method_not_allowed");
    }

    static ApiError timeout(long seconds) {
        return new ApiError(408, "timeout_error", "The request did not finish within the server's limit of "
                + seconds + " s.", null, "request_timeout");
    }

    static ApiError tooLarge(long limit) {
        return new ApiError(413, "invalid_request_error", "The request body is larger than the server's limit of "
                + limit + " bytes.", null, "request_too_large");
    }

    static ApiError unavailable() {
        return new ApiError(503, "server_error", "The server is shutting down.", null, "shutting_down");
    }

    static ApiError internal(String message) {
        return new ApiError(500, "server_error", message, null, null);
    }

    ObjectNode body() {
        ObjectNode error = JsonNodeFactory.instance.objectNode();
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.set("error", error);
        return body;
    }
}
