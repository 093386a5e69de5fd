package io.tramontane.server;

import io.tramontane.api.Tramontane;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

/**
 * The OpenAI-compatible HTTP server over one loaded model: Jetty 12 core handlers, every request on a
 * virtual thread. {@link #stop()} drains: new requests get 503 while in-flight ones finish (up to the
 * drain timeout). The model stays open; its owner closes it after the server.
 */
public final class OpenAiServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;
    private final ApiRouter router;
    private final ServerOptions options;

    private OpenAiServer(Server server, ServerConnector connector, ApiRouter router, ServerOptions options) {
        this.server = server;
        this.connector = connector;
        this.router = router;
        this.options = options;
    }

    /** Starts listening; returns once the port is bound. */
    public static OpenAiServer start(Tramontane tramontane, ServerOptions options) throws Exception {
        ServedModel model = new ServedModel(tramontane);
        ServerMetrics metrics = new ServerMetrics(tramontane::stats);
        tramontane.observeSteps(metrics.stepObserver());
        Map<ApiRouter.Route, Endpoint> routes = new LinkedHashMap<>();
        routes.put(new ApiRouter.Route("POST", "/v1/chat/completions"), new ChatCompletionsHandler(model, options, metrics));
        routes.put(new ApiRouter.Route("POST", "/v1/completions"), new CompletionsHandler(model, options, metrics));
        routes.put(new ApiRouter.Route("GET", "/v1/models"), new ModelsHandler(model));
        routes.put(new ApiRouter.Route("GET", "/v1/models/{id}"), new ModelsHandler(model));
        routes.put(new ApiRouter.Route("GET", "/health"), new HealthHandler());
        routes.put(new ApiRouter.Route("GET", "/metrics"), new MetricsHandler(metrics));
        routes.put(new ApiRouter.Route("POST", "/tokenize"), new TokenizeHandler(model, options));
        routes.put(new ApiRouter.Route("POST", "/detokenize"), new DetokenizeHandler(model, options));

        VirtualThreadPool threads = new VirtualThreadPool();
        threads.setName("tramontane-http");
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(options.host());
        connector.setPort(options.port());
        // a long non-streamed generation writes nothing for a while: only the request timeout may end it
        connector.setIdleTimeout(options.requestTimeout().toMillis() + 30_000);
        server.addConnector(connector);
        ApiRouter router = new ApiRouter(routes, options, metrics);
        server.setHandler(router);
        server.start();
        return new OpenAiServer(server, connector, router, options);
    }

    /** The bound port (the chosen one when the options asked for port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** Blocks until the server stopped. */
    public void join() throws InterruptedException {
        server.join();
    }

    /** Refuses new requests with 503, lets in-flight ones finish (up to the drain timeout), then closes. */
    public void stop() throws Exception {
        router.drain(options.drainTimeout());
        server.stop();
    }

    @Override
    public void close() throws Exception {
        stop();
    }
}
