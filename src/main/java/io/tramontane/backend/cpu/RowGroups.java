package io.tramontane.backend.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * How many bytes of weights a prefill row group holds. The group stays in the core's L2 while every four tokens of a
 * token panel pass over it. A panel too large to stay in L2 beside it is re-read from L3 by every group, so the larger
 * the group the less L3 traffic: such panels take a third of the per-core L2 (Linux sysfs), between 192 KB and 1 MB.
 * Smaller panels (batched decode, short prompts), and every panel where the L2 size is unknown, take 192 KB. On the
 * 2-vCPU Emerald Rapids Xeon (2 MB L2 a core), 512-token prefill, 680 KB groups against 192 KB, five interleaved pairs:
 * BF16 median 119.0 -> 122.5 tok/s, FP8 113.9 -> 122.5; at 16 streams the larger group measured worse
 * (2026-11-27, docs/cpu-kernels.md).
 */
final class RowGroups {
    static final int MIN_BYTES = 192 << 10, MAX_BYTES = 1 << 20;
    private static final OptionalLong L2 = l2Bytes(Path.of("/sys/devices/system/cpu/cpu0/cache"));

    private RowGroups() {}

    /**
     * Rows of {@code rowBytes} each in a row group whose tokens take {@code panelBytes}, on this machine: a whole
     * multiple of {@code multiple} (a tile's rows), at least one.
     */
    static int rows(long panelBytes, long rowBytes, int multiple) {
        return Math.max(multiple, (int) (bytesFor(L2, panelBytes) / rowBytes) / multiple * multiple);
    }

    static int bytesFor(OptionalLong l2, long panelBytes) {
        if (l2.isEmpty() || panelBytes <= l2.getAsLong() / 2) return MIN_BYTES;
        return (int) Math.clamp(l2.getAsLong() / 3, MIN_BYTES, MAX_BYTES);
    }

    /**
     * The size of the level-2 data (or unified) cache among {@code cacheDir}'s {@code index*} entries, as sysfs writes
     * them ({@code level} "2", {@code type} "Data" or "Unified", {@code size} such as "2048K"); empty where there is none
     * or it cannot be read.
     */
    static OptionalLong l2Bytes(Path cacheDir) {
        try (Stream<Path> entries = Files.list(cacheDir)) {
            for (Path index : entries.filter(p -> p.getFileName().toString().startsWith("index")).sorted().toList()) {
                String type = read(index.resolve("type"));
                if (read(index.resolve("level")).equals("2") && (type.equals("Data") || type.equals("Unified"))) {
                    return parseSize(read(index.resolve("size")));
                }
            }
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            // not Linux, or no cache information: the default group
        }
        return OptionalLong.empty();
    }

    /** "2048K", "2M", "524288" as bytes; empty for anything else. */
    static OptionalLong parseSize(String size) {
        String s = size.strip().toUpperCase(Locale.ROOT);
        long unit = s.endsWith("K") ? 1L << 10 : s.endsWith("M") ? 1L << 20 : 1;
        String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
        if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit) || digits.length() > 12) return OptionalLong.empty();
        return OptionalLong.of(Long.parseLong(digits) * unit);
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file).strip() : "";
    }
}
