package io.tramontane.server;

import java.time.Duration;

/**
 * How the server listens and what it allows.
 *
 * @param apiKey             null: no authentication; otherwise {@code /v1/*} needs {@code Authorization: Bearer apiKey}
 * @param corsOrigin         null: no CORS headers (browsers on other origins are refused); {@code *} or one origin
 * @param defaultTemperature the temperature of requests that do not set one
 * @param drainTimeout       how long a stop waits for in-flight requests before closing their connections
 */
public record ServerOptions(String host, int port, String apiKey, long maxBodyBytes, Duration requestTimeout,
                            String corsOrigin, double defaultTemperature, Duration drainTimeout) {
    public ServerOptions {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("max body bytes must be >= 1, got " + maxBodyBytes);
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("request timeout must be positive, got " + requestTimeout);
        }
        if (defaultTemperature < 0) {
            throw new IllegalArgumentException("default temperature must be >= 0, got " + defaultTemperature);
        }
        if (apiKey != null && apiKey.isBlank()) apiKey = null;
        if (corsOrigin != null && corsOrigin.isBlank()) corsOrigin = null;
    }

    /** Loopback on a free port, no key, 1 MiB bodies, 10 minutes per request, temperature 1 as OpenAI (tests, embedding). */
    public static ServerOptions loopback() {
        return new ServerOptions("127.0.0.1", 0, null, 1 << 20, Duration.ofMinutes(10), null, 1.0, Duration.ofSeconds(30));
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, key, maxBodyBytes, requestTimeout, corsOrigin, defaultTemperature, drainTimeout);
    }

    public ServerOptions withLimits(long bodyBytes, Duration timeout) {
        return new ServerOptions(host, port, apiKey, bodyBytes, timeout, corsOrigin, defaultTemperature, drainTimeout);
    }

    public ServerOptions withCorsOrigin(String origin) {
        return new ServerOptions(host, port, apiKey, maxBodyBytes, requestTimeout, origin, defaultTemperature, drainTimeout);
    }

    public ServerOptions withDefaultTemperature(double t) {
        return new ServerOptions(host, port, apiKey, maxBodyBytes, requestTimeout, corsOrigin, t, drainTimeout);
    }
}
