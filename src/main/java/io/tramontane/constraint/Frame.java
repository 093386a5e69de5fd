package io.tramontane.constraint;

/**
 * One level of the pushdown automaton: where the matcher of one value (or of a tool-call piece) stands.
 * Frames are immutable values: two equal frames (on equal stacks) have the same future, which is what lets
 * the token masks be cached per {@link State}.
 */
interface Frame {
    /** Symbols below this are bytes; a special (control) token id {@code t} is the symbol {@code SPECIAL + t}. */
    int SPECIAL = 256;

    /** The stack after this frame, sitting on {@code below}, reads {@code symbol}; null when it cannot. */
    State read(State below, int symbol);

    /** True when this frame may be left without reading anything more (a number after a digit, enough repeats). */
    boolean canEnd();

    /**
     * This frame as a mask-cache key: counters that no single token can move across a limit (a string
     * length far below its cap) are replaced by {@link #FREE}, so that one cached mask serves them all.
     * {@code reach} is the byte length of the longest token.
     */
    default Frame maskKey(int reach) {
        return this;
    }

    /** A counter value standing for "any value that no token can push across a limit". */
    int FREE = -1;

    /** True when {@code count} may be keyed as {@link #FREE}: at least {@code min} and {@code reach} below {@code max}. */
    static boolean isFree(int count, int min, int max, int reach) {
        return count >= min && (long) count + reach <= max;
    }
}
