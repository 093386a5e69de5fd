package io.tramontane.backend.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Compiles a host emulator, cuda-kernels/test/NAME.cpp, with g++ as C++20 with every warning an error. Its sources
 * are the .cpp, the headers beside it (emulated_device.h) and the kernel cores of cuda-kernels/ it runs.
 */
final class EmulatorBuild {
    private static final Path ROOT = CudaToolkit.repositoryRoot();
    /** cuda-kernels/, where the kernel cores are. */
    static final Path KERNELS = ROOT.resolve("cuda-kernels");
    private static final Path EMULATORS = KERNELS.resolve("test");

    private EmulatorBuild() {}

    /** For a test's {@code @BeforeEach}: skips it, visibly, when {@code binary} (an emulator) could not be built. */
    static void assumeBuilt(Optional<Path> binary, String test) {
        if (binary.isEmpty()) System.err.println("SKIPPED: " + test + ": g++ not found");
        org.junit.jupiter.api.Assumptions.assumeTrue(binary.isPresent(), "g++ not found: the emulator cannot be built");
    }

    private static Path source(String name) {
        return EMULATORS.resolve(name + ".cpp");
    }

    /**
     * The emulator NAME in the engine's target/, compiled again when it is missing or older than any of its sources,
     * with {@code includes} searched for the kernel cores; empty without g++.
     */
    static Optional<Path> upToDate(String name, List<Path> includes) {
        if (CudaToolkit.gxx().isEmpty()) return Optional.empty();
        Path out = ROOT.resolve("src/target").resolve(name);
        try {
            if (!Files.exists(out) || newestSource(name).compareTo(Files.getLastModifiedTime(out)) > 0) {
                compile(name, includes, out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Optional.of(out);
    }

    private static FileTime newestSource(String name) throws IOException {
        List<Path> sources = new ArrayList<>(List.of(source(name)));
        try (Stream<Path> headers = Files.list(EMULATORS); Stream<Path> cores = Files.list(KERNELS)) {
            headers.filter(p -> p.toString().endsWith(".h")).forEach(sources::add);
            cores.filter(p -> p.toString().endsWith(".cuh")).forEach(sources::add);
        }
        FileTime newest = FileTime.fromMillis(0);
        for (Path source : sources) {
            FileTime modified = Files.getLastModifiedTime(source);
            if (modified.compareTo(newest) > 0) newest = modified;
        }
        return newest;
    }

    /**
     * Compiles the emulator NAME into {@code out}, with {@code includes} searched in order for the kernel cores it
     * includes (a directory holding a deliberately broken copy first, say). Needs g++.
     */
    static Path compile(String name, List<Path> includes, Path out) throws IOException {
        Path gxx = CudaToolkit.gxx()
                .orElseThrow(() -> new IllegalStateException("compiling the " + name + " needs g++"));
        Files.createDirectories(out.getParent());
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        List<String> command = new ArrayList<>(
                List.of(gxx.toString(), "-std=c++20", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas"));
        for (Path include : includes) command.addAll(List.of("-I", include.toString()));
        command.addAll(List.of("-o", tmp.toString(), source(name).toString()));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("g++ failed on " + source(name) + ":\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
        return out;
    }
}
