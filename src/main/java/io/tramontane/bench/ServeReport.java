package io.tramontane.bench;

import java.util.List;

/**
 * A whole {@code bench serve} run: what was asked of which server, and one entry per load level.
 *
 * @param promptTokens requested prompt lengths ({@code N} or {@code MIN:MAX}), or null with a dataset
 */
public record ServeReport(String url, String model, String endpoint, String promptTokens, String outputTokens,
                          String dataset, int requestsPerLevel, Machine machine, List<LoadLevel> levels) {
    public ServeReport {
        levels = List.copyOf(levels);
    }
}
