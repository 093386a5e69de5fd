package io.tramontane.weights;

import java.nio.file.Path;

/**
 * A checkpoint that cannot be loaded: a corrupted or truncated file, a header that breaks the
 * safetensors rules, a missing tensor, a shape that disagrees with the config, an unsupported config
 * field. The message names the file and, where there is one, the tensor or field.
 */
public final class CheckpointException extends RuntimeException {
    private final transient Path file;
    private final String subject;

    /** {@code subject}: the tensor or config field concerned, or null for the file as a whole. */
    public CheckpointException(Path file, String subject, String problem) {
        this(file, subject, problem, null);
    }

    public CheckpointException(Path file, String subject, String problem, Throwable cause) {
        super(file + (subject == null ? "" : ": " + subject) + ": " + problem, cause);
        this.file = file;
        this.subject = subject;
    }

    public static CheckpointException tensor(Path file, String tensor, String problem) {
        return new CheckpointException(file, "tensor '" + tensor + "'", problem);
    }

    public static CheckpointException field(Path file, String field, String problem) {
        return new CheckpointException(file, "field '" + field + "'", problem);
    }

    public Path file() {
        return file;
    }

    /** The tensor or config field concerned (e.g. {@code tensor 'norm.weight'}), or null. */
    public String subject() {
        return subject;
    }
}
