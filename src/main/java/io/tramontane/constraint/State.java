package io.tramontane.constraint;

/**
 * The automaton's state: an immutable stack of {@link Frame}s, shared between the states that grow from it.
 * {@link #EMPTY} is a complete output: nothing may follow it but the end of sequence.
 */
final class State {
    static final State EMPTY = new State(null, null);

    private final Frame top;
    private final State below;
    private final int hash;

    private State(Frame top, State below) {
        this.top = top;
        this.below = below;
        this.hash = top == null ? 0 : 31 * below.hash + top.hashCode();
    }

    State push(Frame frame) {
        return new State(frame, this);
    }

    /** The state after {@code symbol} (a byte, or {@link Frame#SPECIAL} + a control token id), or null when not allowed. */
    State read(int symbol) {
        return top == null ? null : top.read(below, symbol);
    }

    /** True when the output read so far is complete: every frame on the stack may end here. */
    boolean canEnd() {
        for (State s = this; s.top != null; s = s.below) if (!s.top.canEnd()) return false;
        return true;
    }

    /** This state with every frame replaced by its {@link Frame#maskKey}: equal keys have equal token masks. */
    State maskKey(int reach) {
        if (top == null) return this;
        State keyedBelow = below.maskKey(reach);
        Frame keyedTop = top.maskKey(reach);
        return keyedTop == top && keyedBelow == below ? this : new State(keyedTop, keyedBelow);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof State other) || other.hash != hash) return false;
        State a = this, b = other;
        while (a != b) {
            if (a.top == null || b.top == null || !a.top.equals(b.top)) return false;
            a = a.below;
            b = b.below;
        }
        return true;
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("[");
        for (State s = this; s.top != null; s = s.below) out.append(s == this ? "" : " | ").append(s.top);
        return out.append(']').toString();
    }
}
