package io.tramontane.server;

/** Bounds on what one request may ask for, so no request can take the server's memory. */
final class Limits {
    /** Choices per request ({@code n}); each one is a sequence in the engine. */
    static final int MAX_CHOICES = 16;

    private Limits() {}
}
