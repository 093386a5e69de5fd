package io.tramontane.constraint;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A compiled constraint: its root node, the control tokens it may emit, and the cache of token masks per
 * automaton state. Shared by every request that uses the same schema or tools; thread-safe. The cache is
 * cleared when it reaches {@link #MAX_CACHED_MASKS} entries (a crude bound on memory that keeps hot states
 * fast in practice: they are recomputed once after a clear).
 */
final class Grammar {
    static final int MAX_CACHED_MASKS = 16_384;

    private final Node root;
    private final int[] specials;
    private final Vocabulary vocabulary;
    private final int vocabSize, eosId;
    private final TokenMask endOnly;
    private final ConcurrentHashMap<State, TokenMask> masks = new ConcurrentHashMap<>();

    Grammar(Node root, int[] specials, Vocabulary vocabulary, int vocabSize, int eosId) {
        this.root = root;
        this.specials = specials.clone();
        this.vocabulary = vocabulary;
        this.vocabSize = vocabSize;
        this.eosId = eosId;
        boolean[] eos = new boolean[vocabSize];
        eos[eosId] = true;
        this.endOnly = TokenMask.of(eos);
    }

    State start() {
        return State.EMPTY.push(root.start());
    }

    int eosId() {
        return eosId;
    }

    /** The mask that allows only the end of sequence (after the output ended, or after a token it did not allow). */
    TokenMask endOnly() {
        return endOnly;
    }

    /** The tokens allowed in {@code state}, from the cache or computed (and then cached). */
    TokenMask mask(State state) {
        State key = state.maskKey(vocabulary.longest());
        TokenMask mask = masks.get(key);
        if (mask == null) {
            mask = compute(state);
            if (masks.size() >= MAX_CACHED_MASKS) masks.clear();
            masks.putIfAbsent(key, mask);
        }
        return mask;
    }

    /** Every ordinary token whose bytes {@code state} reads, the control tokens it reads, and EOS when it may end. */
    TokenMask compute(State state) {
        boolean[] allowed = new boolean[vocabSize];
        vocabulary.markReadable(state, allowed);
        for (int id : specials) if (state.read(Frame.SPECIAL + id) != null) allowed[id] = true;
        if (state.canEnd()) allowed[eosId] = true;
        return TokenMask.of(allowed);
    }

    int cachedMasks() {
        return masks.size();
    }
}
