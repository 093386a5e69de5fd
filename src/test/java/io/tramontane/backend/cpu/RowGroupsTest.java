package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RowGroupsTest {
    @TempDir Path sysfs;

    private void index(int i, String level, String type, String size) throws IOException {
        Path dir = Files.createDirectories(sysfs.resolve("index" + i));
        Files.writeString(dir.resolve("level"), level + "\n");
        Files.writeString(dir.resolve("type"), type + "\n");
        Files.writeString(dir.resolve("size"), size + "\n");
    }

    @Test
    void aPanelTooLargeForLevel2TakesAThirdOfItAsSysfsDescribesIt() throws IOException {
        index(0, "1", "Data", "48K");
        index(1, "1", "Instruction", "32K");
        index(2, "2", "Unified", "2048K");
        index(3, "3", "Unified", "266240K");
        assertThat(RowGroups.l2Bytes(sysfs)).hasValue(2048L << 10);
        assertThat(RowGroups.bytesFor(RowGroups.l2Bytes(sysfs), 4L << 20)).as("512 tokens of 2048 features").isEqualTo((2048 << 10) / 3);
        assertThat(RowGroups.bytesFor(RowGroups.l2Bytes(sysfs), 128 << 10)).as("16 tokens").isEqualTo(RowGroups.MIN_BYTES);
    }

    @Test
    void smallAndHugeCachesAreClampedAndAnUnknownOneTakesTheDefault() throws IOException {
        long panel = 64L << 20;
        assertThat(RowGroups.bytesFor(OptionalLong.of(256 << 10), panel)).isEqualTo(RowGroups.MIN_BYTES);
        assertThat(RowGroups.bytesFor(OptionalLong.of(32L << 20), panel)).isEqualTo(RowGroups.MAX_BYTES);
        assertThat(RowGroups.bytesFor(OptionalLong.empty(), panel)).isEqualTo(RowGroups.MIN_BYTES);
        assertThat(RowGroups.l2Bytes(sysfs.resolve("absent"))).isEmpty();
        index(0, "1", "Data", "48K");
        assertThat(RowGroups.l2Bytes(sysfs)).as("no level-2 entry").isEmpty();
        index(1, "2", "Unified", "lots");
        assertThat(RowGroups.l2Bytes(sysfs)).as("unreadable size").isEmpty();
    }

    /** A one-byte panel fits any L2 (and an unknown one gives the default), so the group is 192 KB here too. */
    @Test
    void groupsAreWholeTilesOfRowsAndAtLeastOne() {
        assertThat(RowGroups.rows(1, 4096, 5)).isEqualTo(45);  // 48 rows of 4 KB in 192 KB, down to whole five-row tiles
        assertThat(RowGroups.rows(1, 4096, 4)).isEqualTo(48);
        assertThat(RowGroups.rows(1, 1L << 20, 6)).isEqualTo(6);  // rows wider than the group: one tile
    }

    @Test
    void sizesParseWithTheirUnits() {
        assertThat(RowGroups.parseSize("2048K")).hasValue(2048L << 10);
        assertThat(RowGroups.parseSize("1M")).hasValue(1L << 20);
        assertThat(RowGroups.parseSize("524288")).hasValue(524288);
        assertThat(RowGroups.parseSize("K")).isEmpty();
        assertThat(RowGroups.parseSize("-1K")).isEmpty();
        assertThat(RowGroups.parseSize("99999999999999K")).isEmpty();
    }
}
