package io.tramontane.nccl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where libnccl.so.2 may be: {@code $TRAMONTANE_NCCL_LIBRARY} when set (nothing else is tried then), else the
 * dynamic loader's own search (LD_LIBRARY_PATH, ldconfig: a system or CUDA toolkit install), and only when that
 * fails the lib directory of the {@code nvidia-nccl} wheel that PyTorch installs, under Python's site-packages.
 */
final class NcclLibrary {
    static final String SONAME = "libnccl.so.2";
    static final String OVERRIDE = "TRAMONTANE_NCCL_LIBRARY";
    private static final Path WHEEL_LIB = Path.of("nvidia", "nccl", "lib", SONAME);

    private NcclLibrary() {}

    /** The candidates to try first: the override alone, or the soname for the loader to find. */
    static List<String> first(String override) {
        return override != null && !override.isBlank() ? List.of(override) : List.of(SONAME);
    }

    /** The wheels' copies that exist under {@code sitePackages} (none when an override was given). */
    static List<String> wheels(String override, List<Path> sitePackages) {
        if (override != null && !override.isBlank()) return List.of();
        List<String> candidates = new ArrayList<>();
        for (Path site : sitePackages) {
            Path library = site.resolve(WHEEL_LIB);
            if (Files.isRegularFile(library)) candidates.add(library.toString());
        }
        return candidates;
    }
}
