package io.tramontane.nccl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/**
 * The bindings against a real libnccl.so.2 where one is found ({@link NcclLibrary}): every symbol binds and the
 * calls that need no GPU answer. Skipped, visibly, where NCCL is not installed (CI).
 */
class NcclLibraryTest {
    @Test
    void bindsTheInstalledLibrary() {
        NcclProbe probe = Nccl.probe();
        if (!probe.available()) System.err.println("SKIPPED: NcclLibraryTest: " + probe.reason());
        assumeTrue(probe.available(), probe.reason());
        Nccl nccl = probe.nccl().orElseThrow();
        assertThat(nccl.version()).isEqualTo(probe.version()).isGreaterThanOrEqualTo(NcclProbe.MINIMUM_VERSION);
        assertThat(nccl.errorString(FakeNccl.INVALID_ARGUMENT)).startsWith("invalid argument");
        assertThat(probe.reason()).startsWith("NCCL " + Nccl.versionText(probe.version()) + " from ");
    }
}
