package io.tramontane.engine;

import java.util.List;

/**
 * Finds stop strings in streamed text across token boundaries. Text that could still be the start of
 * a stop string is held back; on a match everything from the stop string on is dropped (OpenAI
 * semantics: the stop string is not part of the output).
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean matched;

    StopStrings(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    boolean matched() {
        return matched;
    }

    /** Adds decoded text and returns the part that can be emitted now. */
    String accept(String text) {
        if (stops.isEmpty()) return text;
        pending.append(text);
        int earliest = -1;
        for (String stop : stops) {
            int at = pending.indexOf(stop);
            if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
        }
        if (earliest >= 0) {
            matched = true;
            String out = pending.substring(0, earliest);
            pending.setLength(0);
            return out;
        }
        int keep = 0;  // the longest suffix of pending that is a proper prefix of some stop string
        for (String stop : stops) {
            for (int len = Math.min(stop.length() - 1, pending.length()); len > keep; len--) {
                if (pending.toString().regionMatches(pending.length() - len, stop, 0, len)) {
                    keep = len;
                    break;
                }
            }
        }
        String out = pending.substring(0, pending.length() - keep);
        pending.delete(0, pending.length() - keep);
        return out;
    }

    /** The held-back text, at the end of a generation that did not stop on a stop string. */
    String flush() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }
}
