package io.tramontane.nccl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where libnccl.so.2 may be: {@code $TRAMONTANE_NCCL_LIBRARY} when set (nothing else is tried then), the
 * dynamic loader's own search (LD_LIBRARY_PATH, ldconfig: a system or CUDA toolkit install), then the lib
 * directory of the {@code nvidia-nccl} Python wheel that PyTorch installs, in the usual site-packages places.
 */
final class NcclLibrary {
    static final String SONAME = "libnccl.so.2";
    static final String OVERRIDE = "TRAMONTANE_NCCL_LIBRARY";
    private static final Path WHEEL_LIB = Path.of("nvidia", "nccl", "lib", SONAME);

    private NcclLibrary() {}

    /** Candidates in the order to try: plain names go to dlopen's search, paths are absolute. */
    static List<String> candidates(String override, List<Path> sitePackageRoots) {
        if (override != null && !override.isBlank()) return List.of(override);
        List<String> candidates = new ArrayList<>(List.of(SONAME));
        for (Path root : sitePackageRoots) {
            Path library = root.resolve(WHEEL_LIB);
            if (Files.isRegularFile(library)) candidates.add(library.toString());
        }
        return candidates;
    }

    static List<String> candidates() {
        return candidates(System.getenv(OVERRIDE), sitePackageRoots());
    }

    /** site-packages / dist-packages directories of the Python installs a GPU machine typically has. */
    private static List<Path> sitePackageRoots() {
        List<Path> roots = new ArrayList<>();
        String home = System.getProperty("user.home");
        for (String base : List.of("/usr/local/lib", "/usr/lib", "/opt/conda/lib", home + "/.local/lib")) {
            try (Stream<Path> pythons = Files.list(Path.of(base))) {
                pythons.filter(p -> p.getFileName().toString().startsWith("python3"))
                        .sorted()
                        .forEach(p -> {
                            roots.add(p.resolve("site-packages"));
                            roots.add(p.resolve("dist-packages"));
                        });
            } catch (IOException | RuntimeException e) {
                // no such directory: nothing to add
            }
        }
        return roots;
    }
}
