package io.tramontane.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where PyTorch's pip wheels put NVIDIA's libraries (nvidia/cublas/lib, nvidia/nccl/lib, ...): Python's
 * site-packages directories, as {@code python3} itself lists them (virtual environments and user installs
 * included). Asked only when a library is not found the usual ways; GPU machines have PyTorch but maybe no toolkit.
 */
public final class PythonSitePackages {
    private PythonSitePackages() {}

    /** Python's site-packages directories, or none when python3 is missing, fails or takes over 10 s. */
    public static List<Path> find() {
        String script = "import site; print('\\n'.join(site.getsitepackages() + [site.getusersitepackages()]))";
        try {
            Process process = new ProcessBuilder("python3", "-c", script).redirectErrorStream(true).start();
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return List.of();
            }
            if (process.exitValue() != 0) return List.of();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return output.lines().map(String::strip).filter(line -> !line.isEmpty()).map(Path::of).toList();
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }
}
