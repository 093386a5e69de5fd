package io.tramontane.constraint;

import java.util.Arrays;
import java.util.List;

/**
 * One of several byte strings, each followed by its own continuation: literal values ({@code true}, an
 * enum's members, serialised compactly; no continuation) and tool-call heads (a function name, then that
 * function's arguments). An entry that is a prefix of another (enum {@code 1} and {@code 12}) ends where the
 * next symbol leaves the trie.
 */
final class TrieShape implements Node {
    final List<byte[]> entries;
    private final ByteTrie trie;
    private final Node[] continuations;  // per entry; null: the value ends with the entry
    private final At start;

    TrieShape(List<byte[]> entries, Node[] continuations) {
        this.entries = List.copyOf(entries);
        this.trie = new ByteTrie(entries);
        this.continuations = continuations.clone();
        this.start = new At(this, 0);
    }

    /** Literal values: the value is exactly one of {@code entries}. */
    static TrieShape literals(List<byte[]> entries) {
        return new TrieShape(entries, new Node[entries.size()]);
    }

    static TrieShape literal(String text) {
        return literals(List.of(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    boolean isLiteral() {
        return Arrays.stream(continuations).allMatch(c -> c == null);
    }

    @Override
    public Frame start() {
        return start;
    }

    /** Inside the trie at {@code node}: the bytes read so far spell a prefix of at least one entry. */
    record At(TrieShape shape, int node) implements Frame {
        @Override
        public State read(State below, int symbol) {
            ByteTrie trie = shape.trie;
            int child = trie.child(node, symbol);
            if (child >= 0) {
                int ended = trie.entry(child);
                if (ended < 0 || trie.hasChildren(child)) return below.push(new At(shape, child));
                Node next = shape.continuations[ended];
                return next == null ? below : below.push(next.start());
            }
            int ended = trie.entry(node);
            if (ended < 0) return null;
            Node next = shape.continuations[ended];
            return next == null ? below.read(symbol) : next.start().read(below, symbol);
        }

        @Override
        public boolean canEnd() {
            int ended = shape.trie.entry(node);
            return ended >= 0 && (shape.continuations[ended] == null || shape.continuations[ended].start().canEnd());
        }
    }
}
