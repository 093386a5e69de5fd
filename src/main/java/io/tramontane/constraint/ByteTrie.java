package io.tramontane.constraint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A trie over a few byte strings (literal values, property keys, function names), each entry marked with
 * its index in the input list. Node 0 is the root. Small and immutable; children are found by a linear scan.
 */
final class ByteTrie {
    private final byte[][] edges;   // per node: the bytes of its children
    private final int[][] targets;  // per node: the child reached by each edge byte
    private final int[] entry;      // per node: the index of the entry ending here, or -1
    private final int[][] entriesUnder;  // per node: the sorted indices of the entries at or below it

    ByteTrie(List<byte[]> entries) {
        List<byte[]> edgeList = new ArrayList<>();
        List<int[]> targetList = new ArrayList<>();
        List<Integer> entryList = new ArrayList<>();
        edgeList.add(new byte[0]);
        targetList.add(new int[0]);
        entryList.add(-1);
        for (int index = 0; index < entries.size(); index++) {
            int node = 0;
            for (byte b : entries.get(index)) {
                int child = find(edgeList.get(node), targetList.get(node), b);
                if (child < 0) {
                    child = edgeList.size();
                    edgeList.add(new byte[0]);
                    targetList.add(new int[0]);
                    entryList.add(-1);
                    byte[] e = Arrays.copyOf(edgeList.get(node), edgeList.get(node).length + 1);
                    int[] t = Arrays.copyOf(targetList.get(node), e.length);
                    e[e.length - 1] = b;
                    t[t.length - 1] = child;
                    edgeList.set(node, e);
                    targetList.set(node, t);
                }
                node = child;
            }
            if (entryList.get(node) < 0) entryList.set(node, index);  // a duplicate entry keeps its first index
        }
        this.edges = edgeList.toArray(byte[][]::new);
        this.targets = targetList.toArray(int[][]::new);
        this.entry = entryList.stream().mapToInt(Integer::intValue).toArray();
        this.entriesUnder = new int[edges.length][];
        collect(0);
    }

    private int[] collect(int node) {
        int[] under = entry[node] >= 0 ? new int[] {entry[node]} : new int[0];
        for (int child : targets[node]) {
            int[] more = collect(child);
            int[] merged = Arrays.copyOf(under, under.length + more.length);
            System.arraycopy(more, 0, merged, under.length, more.length);
            under = merged;
        }
        Arrays.sort(under);
        return entriesUnder[node] = under;
    }

    private static int find(byte[] edges, int[] targets, byte b) {
        for (int i = 0; i < edges.length; i++) if (edges[i] == b) return targets[i];
        return -1;
    }

    /** The child of {@code node} along {@code symbol}, or -1 (always -1 for a special-token symbol). */
    int child(int node, int symbol) {
        return symbol < Frame.SPECIAL ? find(edges[node], targets[node], (byte) symbol) : -1;
    }

    /** The index of the entry that ends at {@code node}, or -1. */
    int entry(int node) {
        return entry[node];
    }

    boolean hasChildren(int node) {
        return edges[node].length > 0;
    }

    /** True when some entry at or below {@code node} has an index in {@code [from, to]}. */
    boolean reaches(int node, int from, int to) {
        for (int index : entriesUnder[node]) if (index >= from && index <= to) return true;
        return false;
    }
}
