package io.tramontane.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes requests to endpoints and applies what every endpoint shares: CORS, the API key on
 * {@code /v1/*} (as vLLM: health, metrics and tokenize stay open), OpenAI error bodies, and the request
 * counter. Endpoints block on their virtual thread; the callback completes when they return.
 */
final class ApiRouter extends Handler.Abstract {
    private static final Logger log = LoggerFactory.getLogger(ApiRouter.class);

    /** A path and its method. */
    record Route(String method, String path) {}

    private final Map<Route, Endpoint> routes;
    private final ServerOptions options;
    private final ServerMetrics metrics;
    private final byte[] apiKey;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean draining;

    ApiRouter(Map<Route, Endpoint> routes, ServerOptions options, ServerMetrics metrics) {
        super(InvocationType.BLOCKING);
        this.routes = Map.copyOf(routes);
        this.options = options;
        this.metrics = metrics;
        this.apiKey = options.apiKey() == null ? null : ("Bearer " + options.apiKey()).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = request.getHttpURI().getPath();
        String label = "other";
        inFlight.incrementAndGet();
        try {
            if (draining) throw ApiError.unavailable();
            allowCors(request, response);
            if (request.getMethod().equals("OPTIONS") && options.corsOrigin() != null) {
                response.setStatus(204);
                callback.succeeded();
                return true;
            }
            Route route = route(request.getMethod(), path);
            label = route.path();
            if (apiKey != null && path.startsWith("/v1/")) authorize(request, response);
            routes.get(route).handle(request, response);
            callback.succeeded();
        } catch (ApiError e) {
            fail(response, callback, e);
        } catch (IOException e) {
            // the client went away mid-response: nothing left to tell it
            log.debug("{} {}: {}", request.getMethod(), path, e.toString());
            callback.failed(e);
        } catch (Exception e) {
            log.error("{} {} failed", request.getMethod(), path, e);
            fail(response, callback, ApiError.internal("Internal error: " + e.getClass().getSimpleName()));
        } finally {
            inFlight.decrementAndGet();
        }
        metrics.request(label, response.getStatus());
        return true;
    }

    /**
     * Refuses new requests (503) and waits until those in flight have finished, or {@code timeout}; true
     * when none is left. Jetty's own graceful stop closes connections whose response has not started,
     * which would cancel long non-streamed generations, so the server drains here first.
     */
    boolean drain(Duration timeout) throws InterruptedException {
        draining = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
        return inFlight.get() == 0;
    }

    private Route route(String method, String path) {
        String normalized = path.startsWith("/v1/models/") ? "/v1/models/{id}" : path;
        Route route = new Route(method, normalized);
        if (routes.containsKey(route)) return route;
        boolean known = routes.keySet().stream().anyMatch(r -> r.path().equals(normalized));
        throw known ? ApiError.methodNotAllowed(method, path) : ApiError.notFound(path);
    }

    private void authorize(Request request, Response response) {
        String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        // constant-time comparison: the key must not leak through response timing
        if (given == null || !MessageDigest.isEqual(apiKey, given.getBytes(StandardCharsets.UTF_8))) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
            throw ApiError.unauthorized();
        }
    }

    /** Off unless configured: browsers on other origins then cannot call the API at all. */
    private void allowCors(Request request, Response response) {
        String origin = options.corsOrigin();
        if (origin == null) return;
        String requestOrigin = request.getHeaders().get(HttpHeader.ORIGIN);
        if (!origin.equals("*") && !origin.equals(requestOrigin)) return;
        response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response.getHeaders().put(HttpHeader.VARY, "Origin");
        if (request.getMethod().equals("OPTIONS")) {
            response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
            response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type");
            response.getHeaders().put(HttpHeader.ACCESS_CONTROL_MAX_AGE, "600");
        }
    }

    private static void fail(Response response, Callback callback, ApiError error) {
        if (response.isCommitted()) {
            callback.failed(error);
            return;
        }
        try {
            // a refused body was not read to its end: the connection cannot carry another request
            if (error.status == 413) response.getHeaders().put(HttpHeader.CONNECTION, "close");
            HttpIo.writeJson(response, error.status, error.body());
            callback.succeeded();
        } catch (IOException e) {
            callback.failed(e);
        }
    }
}
