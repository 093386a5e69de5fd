package io.tramontane.engine;

import java.util.ArrayDeque;

/** The free list of KV cache block ids shared by all sequences of one model. Engine-thread only. */
final class KvBlockPool {
    private final int blocks;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();

    KvBlockPool(int blocks) {
        this.blocks = blocks;
        for (int b = 0; b < blocks; b++) free.add(b);
    }

    int total() {
        return blocks;
    }

    int available() {
        return free.size();
    }

    /** One free block, or -1 when the pool is exhausted. */
    int allocate() {
        Integer b = free.poll();
        return b == null ? -1 : b;
    }

    void release(int[] table, int count) {
        for (int i = 0; i < count; i++) free.push(table[i]);
    }
}
