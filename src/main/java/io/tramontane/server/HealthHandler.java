package io.tramontane.server;

import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/** {@code GET /health}: 200 with an empty body once the server runs, which is only after the model loaded (as vLLM). */
final class HealthHandler implements Endpoint {
    @Override
    public void handle(Request request, Response response) throws Exception {
        response.setStatus(200);
        HttpIo.write(response, true, new byte[0]);
    }
}
