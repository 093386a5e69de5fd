package io.tramontane.bench;

import io.tramontane.demo.DemoModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The last roofline measured on this machine, kept as {@code roofline.json} in the Tramontane cache
 * directory so decode and prefill can report fractions without measuring again.
 */
public final class RooflineCache {
    private RooflineCache() {}

    public static Path file() {
        return DemoModel.defaultCacheRoot().resolve("roofline.json");
    }

    public static void write(Roofline roofline) {
        Path file = file();
        try {
            Files.createDirectories(file.getParent());
            Path partial = file.resolveSibling("roofline.json.partial");
            Files.writeString(partial, BenchJson.write(roofline));
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the roofline to " + file, e);
        }
    }

    /** The cached roofline, or empty when none was measured (or the file is unreadable: measure again). */
    public static Optional<Roofline> read() {
        Path file = file();
        if (!Files.isRegularFile(file)) return Optional.empty();
        try {
            return Optional.of(BenchJson.MAPPER.readValue(file.toFile(), Roofline.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
