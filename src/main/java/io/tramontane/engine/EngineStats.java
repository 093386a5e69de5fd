package io.tramontane.engine;

/**
 * A snapshot of the engine for metrics: queue lengths, KV cache use and prefix-cache effectiveness.
 * Counters ({@code preemptions}, {@code prefix*Tokens}, {@code steps}) only grow.
 */
public record EngineStats(int running, int waiting, long preemptions, int kvBlocksUsed, int kvBlocksTotal,
                          int cachedBlocks, long prefixQueriedTokens, long prefixHitTokens, long steps) {

    /** Fraction of looked-up prompt tokens served from the prefix cache so far. */
    public double prefixHitRate() {
        return prefixQueriedTokens == 0 ? 0 : (double) prefixHitTokens / prefixQueriedTokens;
    }
}
