package io.tramontane.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Whether cuBLASLt can be loaded here, from where, and if not, why: "cuBLASLt unavailable: libcublasLt.so.13 and
 * libcublasLt.so.12 not found (tried ...)". Probing never throws. The GPU machines have the driver, nvcc and PyTorch
 * but not necessarily the cuBLAS part of a toolkit, so the library is looked for, in order:
 * <ol>
 *   <li>{@code $TRAMONTANE_CUBLASLT}, a path to the library, when set;</li>
 *   <li>the sonames {@code libcublasLt.so.13} and {@code .so.12} through the dynamic loader (LD_LIBRARY_PATH,
 *       the ldconfig cache);</li>
 *   <li>{@code lib64/} and {@code targets/x86_64-linux/lib/} of $CUDA_HOME, $CUDA_PATH, /usr/local/cuda and every
 *       /usr/local/cuda-*;</li>
 *   <li>PyTorch's pip wheels: {@code nvidia/cu13/lib} and {@code nvidia/cublas/lib} under each of Python's
 *       site-packages directories, which one {@code python3 -c} (site module only, no torch import, 10 s limit)
 *       lists; asked only when nothing earlier loads.</li>
 * </ol>
 *
 * @param location what was loaded (a soname or a path), or null when unavailable
 * @param version  cublasLtGetVersion (e.g. 130100), 0 when unavailable
 */
public record CublasLtProbe(Optional<CublasLt> library, String reason, String location, long version) {
    static final List<String> SONAMES = List.of("libcublasLt.so.13", "libcublasLt.so.12");

    public boolean available() {
        return library.isPresent();
    }

    private static final class Once {
        static final CublasLtProbe PROBE = probe(System.getenv(), PythonSitePackages::find);
    }

    /** The (cached) probe of this machine. */
    public static CublasLtProbe probe() {
        return Once.PROBE;
    }

    /** Probes the candidates of {@code env}; {@code sitePackages} is asked only when the earlier ones fail. */
    static CublasLtProbe probe(Map<String, String> env, Supplier<List<Path>> sitePackages) {
        List<String> tried = new ArrayList<>();
        for (String candidate : candidates(env, List.of())) {
            Optional<CublasLtProbe> probe = attempt(candidate, tried);
            if (probe.isPresent()) return probe.get();
        }
        for (String candidate : pipCandidates(sitePackages.get())) {
            Optional<CublasLtProbe> probe = attempt(candidate, tried);
            if (probe.isPresent()) return probe.get();
        }
        return unavailable(String.join(" and ", SONAMES) + " not found (tried " + String.join(", ", tried)
                + "; set TRAMONTANE_CUBLASLT to the library's path)");
    }

    /**
     * Everything but the pip wheels, in order: $TRAMONTANE_CUBLASLT, the sonames, then the library files that exist
     * in the CUDA directories. {@code extraCudaRoots} (tests) are searched before /usr/local.
     */
    static List<String> candidates(Map<String, String> env, List<Path> extraCudaRoots) {
        Set<String> candidates = new LinkedHashSet<>();
        String explicit = env.get("TRAMONTANE_CUBLASLT");
        if (explicit != null && !explicit.isBlank()) candidates.add(explicit);
        candidates.addAll(SONAMES);
        List<Path> roots = new ArrayList<>(extraCudaRoots);
        for (String variable : List.of("CUDA_HOME", "CUDA_PATH")) {
            String root = env.get(variable);
            if (root != null && !root.isBlank()) roots.add(Path.of(root));
        }
        roots.add(Path.of("/usr/local/cuda"));
        roots.addAll(versionedCudaRoots(Path.of("/usr/local")));
        for (Path root : roots) {
            for (String dir : List.of("lib64", "targets/x86_64-linux/lib")) existing(root.resolve(dir), candidates);
        }
        return List.copyOf(candidates);
    }

    /** The library files that exist in the pip wheels' directories under each site-packages directory. */
    static List<String> pipCandidates(List<Path> sitePackages) {
        Set<String> candidates = new LinkedHashSet<>();
        for (Path site : sitePackages) {
            for (String dir : List.of("nvidia/cu13/lib", "nvidia/cublas/lib")) existing(site.resolve(dir), candidates);
        }
        return List.copyOf(candidates);
    }

    private static void existing(Path dir, Set<String> candidates) {
        for (String soname : SONAMES) {
            Path file = dir.resolve(soname);
            if (Files.isRegularFile(file)) candidates.add(file.toString());
        }
    }

    /** /usr/local/cuda-13.0 and its kind, newest name first. */
    private static List<Path> versionedCudaRoots(Path parent) {
        try (Stream<Path> entries = Files.list(parent)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("cuda-"))
                    .sorted((a, b) -> b.getFileName().toString().compareTo(a.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Loads and binds {@code candidate}; empty (after noting it in {@code tried}) when it does not load. */
    private static Optional<CublasLtProbe> attempt(String candidate, List<String> tried) {
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(candidate, Arena.global());
        } catch (IllegalArgumentException e) {  // dlopen failed
            tried.add(candidate);
            return Optional.empty();
        } catch (IllegalCallerException e) {
            return Optional.of(unavailable("native access is disabled: run java with --enable-native-access=ALL-UNNAMED"));
        }
        return Optional.of(probe(lookup, candidate));
    }

    /** Binds the API exported by {@code lookup}; {@code location} names it. */
    static CublasLtProbe probe(SymbolLookup lookup, String location) {
        try {
            CublasLt library = CublasLt.bind(lookup);
            long version = library.version();
            return new CublasLtProbe(Optional.of(library), "cuBLASLt " + CublasLt.versionText(version) + " from " + location,
                    location, version);
        } catch (IllegalStateException e) {
            return unavailable(location + " " + e.getMessage());
        } catch (IllegalCallerException e) {
            return unavailable("native access is disabled: run java with --enable-native-access=ALL-UNNAMED");
        }
    }

    private static CublasLtProbe unavailable(String why) {
        return new CublasLtProbe(Optional.empty(), "cuBLASLt unavailable: " + why, null, 0);
    }
}
