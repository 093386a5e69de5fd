package io.tramontane.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CublasLtProbeTest {

    @Test
    void theExplicitPathComesFirstThenTheSonamesThenExistingToolkitFiles(@TempDir Path cuda) throws IOException {
        Path lib = Files.createDirectories(cuda.resolve("lib64"));
        Files.createFile(lib.resolve("libcublasLt.so.12"));
        List<String> candidates = CublasLtProbe.candidates(Map.of("TRAMONTANE_CUBLASLT", "/opt/lt.so"), List.of(cuda));
        assertThat(candidates).startsWith("/opt/lt.so", "libcublasLt.so.13", "libcublasLt.so.12",
                lib.resolve("libcublasLt.so.12").toString());
        assertThat(candidates).doesNotContain(lib.resolve("libcublasLt.so.13").toString());
    }

    @Test
    void cudaHomeIsSearched(@TempDir Path cuda) throws IOException {
        Path lib = Files.createDirectories(cuda.resolve("targets/x86_64-linux/lib"));
        Files.createFile(lib.resolve("libcublasLt.so.13"));
        assertThat(CublasLtProbe.candidates(Map.of("CUDA_HOME", cuda.toString()), List.of()))
                .contains(lib.resolve("libcublasLt.so.13").toString());
    }

    @Test
    void pipWheelsOfBothCudaMajorsAreFound(@TempDir Path site) throws IOException {
        Path cu13 = Files.createDirectories(site.resolve("nvidia/cu13/lib"));
        Path cu12 = Files.createDirectories(site.resolve("nvidia/cublas/lib"));
        Files.createFile(cu13.resolve("libcublasLt.so.13"));
        Files.createFile(cu12.resolve("libcublasLt.so.12"));
        assertThat(CublasLtProbe.pipCandidates(List.of(site, site.resolve("missing"))))
                .containsExactly(cu13.resolve("libcublasLt.so.13").toString(), cu12.resolve("libcublasLt.so.12").toString());
    }

    @Test
    void nothingLoadableIsAReasonNamingWhatWasTried(@TempDir Path site) {
        // (an existing file that dlopen refuses would do too, but makes the JVM print a stack-guard warning)
        AtomicInteger asked = new AtomicInteger();
        CublasLtProbe probe = CublasLtProbe.probe(Map.of("TRAMONTANE_CUBLASLT", "/nonexistent/libcublasLt.so.13"), () -> {
            asked.incrementAndGet();
            return List.of(site);
        });
        if (probe.available()) return;  // a machine with cuBLASLt on the loader path: nothing more to check here
        assertThat(asked).as("site-packages asked once nothing else loads").hasValue(1);
        assertThat(probe.reason()).startsWith("cuBLASLt unavailable: libcublasLt.so.13 and libcublasLt.so.12 not found (tried "
                        + "/nonexistent/libcublasLt.so.13, libcublasLt.so.13, libcublasLt.so.12")
                .endsWith("; set TRAMONTANE_CUBLASLT to the library's path)");
        assertThat(probe.location()).isNull();
        assertThat(probe.version()).isZero();
    }

    @Test
    void aLibraryMissingASymbolNamesIt() {
        try (FakeCublasLt fake = new FakeCublasLt()) {
            CublasLtProbe probe = CublasLtProbe.probe(fake.lookup(Set.of("cublasLtMatmul")), "libfake.so");
            assertThat(probe.available()).isFalse();
            assertThat(probe.reason()).isEqualTo("cuBLASLt unavailable: libfake.so does not export cublasLtMatmul");
        }
    }

    @Test
    void aCompleteLibraryIsAvailableWithItsVersion() {
        try (FakeCublasLt fake = new FakeCublasLt()) {
            CublasLtProbe probe = CublasLtProbe.probe(fake.lookup(Set.of()), "libfake.so");
            assertThat(probe.available()).isTrue();
            assertThat(probe.version()).isEqualTo(130100);
            assertThat(probe.reason()).isEqualTo("cuBLASLt 13.1.0 from libfake.so");
        }
    }

    @Test
    void thisMachinesProbeAnswersEitherWay() {
        CublasLtProbe probe = CublasLtProbe.probe();
        assertThat(probe.reason()).isNotBlank();
        if (!probe.available()) System.err.println("CublasLtProbeTest: " + probe.reason());
    }
}
