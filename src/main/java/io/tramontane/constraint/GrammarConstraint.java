package io.tramontane.constraint;

import io.tramontane.sampling.TokenConstraint;
import io.tramontane.tokenizer.Tekken;

/**
 * One request's walk through a {@link Grammar}: the current automaton state, advanced token by token. Not
 * thread-safe (one per sequence, used by the engine thread). A token the mask did not allow (a caller that
 * skipped {@link #mask}) does not throw, since that would fail the whole engine step: it breaks the walk,
 * and from then on only EOS is allowed and the output is never complete.
 */
final class GrammarConstraint implements TokenConstraint {
    private final Grammar grammar;
    private final Tekken tekken;
    private State state;  // null once broken
    private boolean ended;

    GrammarConstraint(Grammar grammar, Tekken tekken) {
        this.grammar = grammar;
        this.tekken = tekken;
        this.state = grammar.start();
    }

    @Override
    public void mask(float[] logits) {
        (state == null || ended ? grammar.endOnly() : grammar.mask(state)).apply(logits);
    }

    @Override
    public void accept(int token) {
        if (state == null || ended) return;
        if (token == grammar.eosId()) {
            ended = true;
            if (!state.canEnd()) state = null;
        } else if (token < 0 || token >= tekken.vocabSize()) {
            state = null;
        } else if (tekken.isSpecial(token)) {
            state = state.read(Frame.SPECIAL + token);
        } else {
            for (byte b : tekken.tokenBytes(token)) if ((state = state.read(b & 0xFF)) == null) return;
        }
    }

    @Override
    public boolean isComplete() {
        return state != null && state.canEnd();
    }

    @Override
    public String toString() {
        return "GrammarConstraint" + (state == null ? "[broken]" : state.toString()) + (ended ? " ended" : "");
    }
}
