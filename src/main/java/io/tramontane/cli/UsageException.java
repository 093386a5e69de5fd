package io.tramontane.cli;

/** A request the user must fix (bad combination of options, unknown model name): exit code 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
