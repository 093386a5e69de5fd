package io.tramontane.backend;

import java.util.Locale;

/**
 * How a backend makes a choice between two ways of running that give the same bits: never the second way, always,
 * or by timing both on the first steps (AUTO). An environment variable sets it: {@code 0}/{@code off},
 * {@code 1}/{@code on} or {@code auto} (the default); the CUDA backend's graphs read {@code TRAMONTANE_CUDA_GRAPHS},
 * the CPU backend's decode row pairs {@code TRAMONTANE_CPU_ROW_PAIRS}.
 */
public enum TrialPolicy {
    OFF, ON, AUTO;

    /** The policy the environment variable {@code variable} names; AUTO when it is unset. */
    public static TrialPolicy fromEnvironment(String variable) {
        return parse(variable, System.getenv(variable));
    }

    /** The policy {@code value} names, read from {@code variable} (named in the error). */
    public static TrialPolicy parse(String variable, String value) {
        if (value == null || value.isBlank()) return AUTO;
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "0", "off", "false" -> OFF;
            case "1", "on", "true" -> ON;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException(variable + ": expected 0/off, 1/on or auto, got '" + value + "'");
        };
    }
}
