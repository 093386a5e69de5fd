package io.tramontane.constraint;

/**
 * A schema or tool list that cannot be turned into a constraint: an unsupported keyword, a malformed value,
 * an unsatisfiable combination. The server answers it with HTTP 400.
 */
public final class ConstraintException extends IllegalArgumentException {
    private final String keyword;
    private final String path;

    /**
     * @param keyword the JSON Schema keyword (or request field) at fault
     * @param path    JSON pointer of the schema object holding it ("" for the root)
     */
    public ConstraintException(String keyword, String path, String message) {
        super(message + " (keyword '" + keyword + "' at " + (path.isEmpty() ? "the schema root" : path) + ")");
        this.keyword = keyword;
        this.path = path;
    }

    public String keyword() {
        return keyword;
    }

    public String path() {
        return path;
    }
}
