package io.tramontane.backend.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/** Finds what the tests need from the build machine: nvcc (as build.sh does), g++ and the repository's cuda-kernels/. */
final class CudaToolkit {
    private CudaToolkit() {}

    static Optional<Path> nvcc() {
        return Stream.concat(onPath("nvcc"), Stream.of(Path.of("/usr/local/cuda/bin/nvcc"))).filter(Files::isExecutable).findFirst();
    }

    /** The host C++ compiler (the kernel emulator's). */
    static Optional<Path> gxx() {
        return onPath("g++").filter(Files::isExecutable).findFirst();
    }

    private static Stream<Path> onPath(String tool) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":")).filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, tool));
    }

    /** The repository root: the nearest directory above the working directory holding cuda-kernels/build.sh. */
    static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("cuda-kernels/build.sh"))) return dir;
        }
        throw new IllegalStateException("cuda-kernels/build.sh not found above " + Path.of("").toAbsolutePath());
    }
}
