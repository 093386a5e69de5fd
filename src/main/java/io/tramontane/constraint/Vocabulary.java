package io.tramontane.constraint;

import io.tramontane.tokenizer.Tekken;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The ordinary tokens of a tokenizer sorted by their bytes, with the length each shares with the one before:
 * an implicit trie. Walking it with the automaton reads every shared prefix once and skips, in one scan,
 * every token that starts with a prefix the automaton already rejected. Immutable; shared by all grammars
 * of a tokenizer.
 */
final class Vocabulary {
    private final int[] ids;        // ordinary token ids in byte order
    private final byte[][] bytes;   // their bytes, same order
    private final int[] shared;     // [i]: length of the common prefix of entries i-1 and i (0 for i = 0)
    private final int longest;

    Vocabulary(Tekken tekken) {
        int size = tekken.vocabSize();
        byte[][] all = new byte[size][];
        for (int id = 0; id < size; id++) if (!tekken.isSpecial(id)) all[id] = tekken.tokenBytes(id);
        this.ids = IntStream.range(0, size).filter(id -> all[id] != null && all[id].length > 0).boxed()
                .sorted(Comparator.comparing(id -> all[id], Arrays::compareUnsigned)).mapToInt(Integer::intValue).toArray();
        this.bytes = new byte[ids.length][];
        this.shared = new int[ids.length];
        int max = 0;
        for (int i = 0; i < ids.length; i++) {
            bytes[i] = all[ids[i]];
            max = Math.max(max, bytes[i].length);
            if (i > 0) {
                int m = Arrays.mismatch(bytes[i - 1], bytes[i]);
                shared[i] = m < 0 ? bytes[i].length : m;
            }
        }
        this.longest = max;
    }

    /** Byte length of the longest token: the most a single token can move any counter. */
    int longest() {
        return longest;
    }

    /** Marks in {@code allowed} every ordinary token whose bytes {@code start} can read. */
    void markReadable(State start, boolean[] allowed) {
        State[] path = new State[longest + 1];  // path[d]: the state after the first d bytes of the last entry walked
        path[0] = start;
        int valid = 0;  // path[0..valid] hold for the last entry walked
        int i = 0;
        while (i < ids.length) {
            byte[] b = bytes[i];
            int depth = Math.min(valid, shared[i]);
            State s = path[depth];
            while (depth < b.length && (s = s.read(b[depth] & 0xFF)) != null) path[++depth] = s;
            if (depth == b.length) {
                allowed[ids[i]] = true;
                valid = depth;
                i++;
            } else {
                // byte `depth` was rejected: so is every following entry that shares those depth + 1 bytes
                valid = depth;
                do i++; while (i < ids.length && shared[i] > depth);
            }
        }
    }
}
