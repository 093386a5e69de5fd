package io.tramontane.server;

import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/**
 * One API endpoint. It runs on its own virtual thread and may block; it writes the whole response
 * before returning, or throws an {@link ApiError} before writing anything.
 */
@FunctionalInterface
interface Endpoint {
    void handle(Request request, Response response) throws Exception;
}
