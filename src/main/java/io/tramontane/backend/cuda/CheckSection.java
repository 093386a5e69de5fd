package io.tramontane.backend.cuda;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The groups of the GPU check that {@code gpu-check --only} can pick, in the order they run. The kernel basics
 * (memset/memcpy, RMSNorm, the read bandwidth that is every timing's floor) always run. A lease is short: a second
 * run picks what the first did not reach.
 */
public enum CheckSection {
    OPS, ATTENTION, GEMM, SAMPLING, MOE, CUBLASLT, GOLDEN, GRAPHS, TP, DEVSTRAL;

    /** The sections named in {@code list} (comma separated, any case); every section when it is null or blank. */
    public static Set<CheckSection> parse(String list) {
        if (list == null || list.isBlank()) return EnumSet.allOf(CheckSection.class);
        Set<CheckSection> sections = EnumSet.noneOf(CheckSection.class);
        for (String name : list.split(",")) {
            try {
                sections.add(valueOf(name.strip().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--only: unknown section '" + name.strip() + "'; expected some of "
                        + Arrays.stream(values()).map(s -> s.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(",")));
            }
        }
        return sections;
    }
}
