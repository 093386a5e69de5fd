package io.tramontane.cli;

/** A subcommand whose engine part is not built yet: exit code 2, naming the issue that tracks it. */
public final class NotImplementedException extends RuntimeException {
    public NotImplementedException(String command, int issue) {
        super(command + " is not implemented yet (tracked in issue #" + issue + ")");
    }
}
