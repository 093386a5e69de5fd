package io.tramontane.backend.cuda;

import java.util.Locale;

/**
 * Whether decode-sized steps run as CUDA graphs ({@link StepGraphs}): never, always, or as measured on the first steps
 * of each size ({@link GraphChoice}). {@code TRAMONTANE_CUDA_GRAPHS} sets it: {@code 0}/{@code off}, {@code 1}/{@code on},
 * {@code auto} (the default).
 */
public enum GraphPolicy {
    OFF, ON, AUTO;

    /** The policy {@code TRAMONTANE_CUDA_GRAPHS} names; AUTO when it is unset. */
    public static GraphPolicy fromEnvironment() {
        return parse(System.getenv("TRAMONTANE_CUDA_GRAPHS"));
    }

    static GraphPolicy parse(String value) {
        if (value == null || value.isBlank()) return AUTO;
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "0", "off", "false" -> OFF;
            case "1", "on", "true" -> ON;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException("TRAMONTANE_CUDA_GRAPHS: expected 0/off, 1/on or auto, got '"
                    + value + "'");
        };
    }
}
