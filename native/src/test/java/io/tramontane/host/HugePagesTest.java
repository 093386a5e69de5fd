package io.tramontane.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class HugePagesTest {
    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");

    @Test
    void onLinuxWithNativeAccessItMapsItsOwnMemory() {
        assumeTrue(LINUX, "skipped: huge pages are a Linux mapping here; this is " + System.getProperty("os.name"));
        assertThat(HugePages.mapsItsOwn()).as("the build's test JVM runs with --enable-native-access").isTrue();
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 4096, (2L << 20) - 8, 2L << 20, (6L << 20) + 24})
    void memoryIsZeroedWritableAndAlignedAsAsked(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = HugePages.allocate(arena, bytes);
            assertThat(m.byteSize()).isEqualTo(bytes);
            assertThat(m.address() % 64).isZero();
            if (HugePages.mapsItsOwn() && bytes >= HugePages.SIZE) assertThat(m.address() % HugePages.SIZE).isZero();
            assertThat(m.mismatch(MemorySegment.ofArray(new byte[(int) bytes]))).isEqualTo(-1);
            for (long i = 0; i < bytes; i += 4093) m.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            for (long i = 0; i < bytes; i += 4093) assertThat(m.get(ValueLayout.JAVA_BYTE, i)).isEqualTo((byte) i);
        }
    }

    @Test
    void aNegativeSizeIsRefusedByName() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> HugePages.allocate(arena, -1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("bytes").hasMessageContaining("-1");
        }
    }

    @Test
    void aSizeNoMappingCanHoldFailsAsTheArenaWouldAndTheNextAllocationStillServes() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> HugePages.allocate(arena, 1L << 52)).isInstanceOf(OutOfMemoryError.class);
            assertThat(HugePages.allocate(arena, 4L << 20).byteSize()).isEqualTo(4L << 20);
        }
    }

    /** More than the machine has, within the address space: refused when asked (Linux's heuristic or strict commit), not at a fault. */
    @Test
    void moreMemoryThanTheMachineHasFailsWhenAskedNotWhenTouched() throws IOException {
        Path overcommit = Path.of("/proc/sys/vm/overcommit_memory");
        assumeTrue(HugePages.mapsItsOwn() && Files.exists(overcommit), "skipped: no mappings of its own here");
        assumeTrue(!Files.readString(overcommit).strip().equals("1"), "skipped: this kernel commits any mapping (overcommit 1)");
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> HugePages.allocate(arena, 1L << 46)).isInstanceOf(OutOfMemoryError.class);
        }
    }

    @Test
    void theMappingIsAdvisedOntoHugePagesAndGoneWhenTheArenaCloses() throws IOException {
        assumeTrue(HugePages.mapsItsOwn(), "skipped: no mappings of its own here");
        assumeTrue(Files.exists(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")),
                "skipped: this kernel has no transparent huge pages");
        long start;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = HugePages.allocate(arena, 4L << 20);
            start = m.address();
            assertThat(vmFlags(start)).as("VmFlags of the mapping at %x", start).contains("hg");
        }
        assertThat(vmFlags(start)).as("a mapping at %x after close", start).isNull();
    }

    @Test
    void anonHugeBytesSumsWhatTheSmapsLinesSay() {
        List<String> rollup = List.of("00400000-7ffc000 ---p 00000000 00:00 0 [rollup]", "Rss:  2542500 kB",
                "AnonHugePages:    851968 kB", "ShmemPmdMapped:        0 kB");
        assertThat(HugePages.anonHugeBytes(rollup)).isEqualTo(851968L * 1024);
        assertThat(HugePages.anonHugeBytes(List.of("AnonHugePages: 2048 kB", "AnonHugePages: 0 kB", "AnonHugePages: 4096 kB")))
                .isEqualTo(6144L * 1024);
        assertThat(HugePages.anonHugeBytes(List.of("Rss: 4 kB"))).as("no such line").isEqualTo(-1);
    }

    @Test
    void theProcessHugePageBytesAreWholeHugePagesWhereLinuxSaysThem() {
        assumeTrue(Files.exists(Path.of("/proc/self/smaps_rollup")), "skipped: no /proc/self/smaps_rollup here");
        long bytes = HugePages.processHugeBytes();
        assertThat(bytes).isNotNegative();
        assertThat(bytes % HugePages.SIZE).isZero();
    }

    /** The VmFlags line of the mapping that starts at {@code start}, or null if none does. */
    private static String vmFlags(long start) throws IOException {
        String header = Long.toHexString(start) + "-";
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) inside = line.startsWith(header);
            else if (inside && line.startsWith("VmFlags:")) return line;
        }
        return null;
    }
}
