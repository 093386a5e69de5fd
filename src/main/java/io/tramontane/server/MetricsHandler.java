package io.tramontane.server;

import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/** {@code GET /metrics}: the Prometheus text format. */
final class MetricsHandler implements Endpoint {
    private final ServerMetrics metrics;

    MetricsHandler(ServerMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void handle(Request request, Response response) throws Exception {
        HttpIo.writeText(response, 200, metrics.contentType(), metrics.scrape());
    }
}
