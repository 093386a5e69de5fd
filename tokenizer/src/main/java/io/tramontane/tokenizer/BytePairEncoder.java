package io.tramontane.tokenizer;

/**
 * Rank-ordered byte-pair merging of one piece in O(n log n): the piece is a linked list of parts, and a binary
 * min-heap holds one key per adjacent pair, {@code rank << 32 | left position}, so the lowest rank wins and the
 * leftmost pair breaks ties. Keys go stale when a neighbour merges; a popped key is used only if it still equals
 * the pair rank stored at its position (the bytes starting at a position only grow, so an old rank never returns).
 * One instance holds scratch arrays for one thread: {@link Tekken} creates one per call.
 */
final class BytePairEncoder {
    private static final int NONE = Integer.MAX_VALUE;

    private final RankTable table;
    private int[] next = new int[0], prev = new int[0], tokenRank = new int[0], pairRank = new int[0];
    private long[] heap = new long[0];
    private int heapSize;

    BytePairEncoder(RankTable table) {
        this.table = table;
    }

    /** Appends the ranks of {@code bytes[0..length)}, merged, to {@code out}, each plus {@code idOffset}. */
    void encode(byte[] bytes, int length, IntList out, int idOffset) {
        ensureCapacity(length);
        for (int i = 0; i < length; i++) {
            next[i] = i + 1;
            prev[i] = i - 1;
            tokenRank[i] = bytes[i] & 0xFF;
        }
        heapSize = 0;
        for (int i = 0; i + 1 < length; i++) {
            pairRank[i] = rankOf(bytes, i, i + 2);
            if (pairRank[i] != NONE) push(((long) pairRank[i] << 32) | i);
        }
        if (length > 0) pairRank[length - 1] = NONE;

        while (heapSize > 0) {
            long key = pop();
            int rank = (int) (key >>> 32), left = (int) key;
            if (pairRank[left] != rank) continue;
            int right = next[left], after = next[right];
            tokenRank[left] = rank;
            next[left] = after;
            if (after < length) prev[after] = left;
            pairRank[right] = NONE;
            pairRank[left] = after < length ? rankOf(bytes, left, next[after]) : NONE;
            if (pairRank[left] != NONE) push(((long) pairRank[left] << 32) | left);
            int before = prev[left];
            if (before >= 0) {
                pairRank[before] = rankOf(bytes, before, after);
                if (pairRank[before] != NONE) push(((long) pairRank[before] << 32) | before);
            }
        }
        for (int i = 0; i < length; i = next[i]) out.add(tokenRank[i] + idOffset);
    }

    private int rankOf(byte[] bytes, int from, int to) {
        int rank = table.rank(bytes, from, to);
        return rank == RankTable.ABSENT ? NONE : rank;
    }

    private void ensureCapacity(int length) {
        if (next.length >= length) return;
        int capacity = Math.max(length, next.length * 2);
        next = new int[capacity];
        prev = new int[capacity];
        tokenRank = new int[capacity];
        pairRank = new int[capacity];
        heap = new long[capacity * 3];
    }

    private void push(long key) {
        if (heapSize == heap.length) heap = java.util.Arrays.copyOf(heap, heap.length * 2 + 16);
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= key) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    private long pop() {
        long top = heap[0];
        long last = heap[--heapSize];
        int i = 0, half = heapSize >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < heapSize && heap[child + 1] < heap[child]) child++;
            if (last <= heap[child]) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = last;
        return top;
    }
}
