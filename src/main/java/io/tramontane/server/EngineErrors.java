package io.tramontane.server;

/** An engine failure as the client sees it: the request's fault (400) or the server's (500). */
final class EngineErrors {
    private EngineErrors() {}

    static ApiError toApiError(Throwable error) {
        if (error instanceof IllegalArgumentException) {
            return ApiError.invalid(null, error.getMessage());
        }
        return ApiError.internal("Generation failed: " + (error == null ? "unknown error" : error.getMessage()));
    }
}
