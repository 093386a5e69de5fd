package io.tramontane.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates {@code ../shared} (golden models, Tekken cases) beside the repository. The build passes its
 * location as the system property {@code tramontane.shared}; a fresh clone without it skips the tests
 * that need it, with a visible reason, instead of failing or passing silently.
 */
public final class SharedFixtures {
    public static final String PROPERTY = "tramontane.shared";

    private SharedFixtures() {}

    /** The shared directory, or a skipped test (with the reason printed) when it is absent. */
    public static Path root() {
        String configured = System.getProperty(PROPERTY, "../shared");
        Path root = Path.of(configured).toAbsolutePath().normalize();
        boolean present = Files.isDirectory(root);
        if (!present) {
            System.err.println("SKIPPED: shared fixtures not found at " + root + " (set -D" + PROPERTY + "=DIR)");
        }
        Assumptions.assumeTrue(present, () -> "shared fixtures not found at " + root + " (set -D" + PROPERTY + "=DIR)");
        return root;
    }

    /** A file or folder under the shared directory; skipped like {@link #root()} when it is missing. */
    public static Path resolve(String relative) {
        Path path = root().resolve(relative);
        Assumptions.assumeTrue(Files.exists(path), () -> "shared fixture missing: " + path);
        return path;
    }
}
