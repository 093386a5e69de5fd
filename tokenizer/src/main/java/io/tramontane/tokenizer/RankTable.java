package io.tramontane.tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Byte string to rank, for slices of a caller's byte array without copying them: all token bytes live in one
 * pool and an open-addressing table (linear probing, load factor at most 1/4) holds {@code rank + 1} per slot.
 * Immutable after construction, so safe to share between threads.
 */
final class RankTable {
    static final int ABSENT = -1;

    private final byte[] pool;
    private final int[] offsets;
    private final int[] slots;
    private final int mask;
    private final int maxLength;

    private RankTable(byte[] pool, int[] offsets, int[] slots, int maxLength) {
        this.pool = pool;
        this.offsets = offsets;
        this.slots = slots;
        this.mask = slots.length - 1;
        this.maxLength = maxLength;
    }

    /** Ranks are list indices; the first 256 entries must be the single bytes 0..255 (checked by TekkenFile). */
    static RankTable of(List<byte[]> tokens) {
        int[] offsets = new int[tokens.size() + 1];
        int total = 0, maxLength = 0;
        for (int rank = 0; rank < tokens.size(); rank++) {
            offsets[rank] = total;
            total += tokens.get(rank).length;
            maxLength = Math.max(maxLength, tokens.get(rank).length);
        }
        offsets[tokens.size()] = total;
        byte[] pool = new byte[total];
        for (int rank = 0; rank < tokens.size(); rank++) {
            byte[] bytes = tokens.get(rank);
            System.arraycopy(bytes, 0, pool, offsets[rank], bytes.length);
        }
        int capacity = Integer.highestOneBit(Math.max(16, tokens.size() * 4 - 1)) << 1;
        RankTable table = new RankTable(pool, offsets, new int[capacity], maxLength);
        for (int rank = 0; rank < tokens.size(); rank++) table.insert(rank);
        return table;
    }

    private void insert(int rank) {
        int from = offsets[rank], to = offsets[rank + 1];
        int slot = hash(pool, from, to) & mask;
        while (slots[slot] != 0) {
            int other = slots[slot] - 1;
            if (Arrays.equals(pool, offsets[other], offsets[other + 1], pool, from, to)) {
                throw new IllegalArgumentException("the byte string of rank " + rank + " duplicates rank " + other
                        + "; every vocab entry must be distinct");
            }
            slot = (slot + 1) & mask;
        }
        slots[slot] = rank + 1;
    }

    /** The rank of {@code bytes[from..to)}, or {@link #ABSENT}. */
    int rank(byte[] bytes, int from, int to) {
        int length = to - from;
        if (length == 1) return bytes[from] & 0xFF;
        if (length > maxLength) return ABSENT;
        int slot = hash(bytes, from, to) & mask;
        for (int entry; (entry = slots[slot]) != 0; slot = (slot + 1) & mask) {
            int rank = entry - 1;
            int start = offsets[rank];
            if (offsets[rank + 1] - start == length && Arrays.equals(pool, start, start + length, bytes, from, to)) {
                return rank;
            }
        }
        return ABSENT;
    }

    byte[] bytes(int rank) {
        return Arrays.copyOfRange(pool, offsets[rank], offsets[rank + 1]);
    }

    /** Appends the bytes of {@code rank} to {@code out} at {@code position}; returns the new position. */
    int copyBytes(int rank, byte[] out, int position) {
        int length = offsets[rank + 1] - offsets[rank];
        System.arraycopy(pool, offsets[rank], out, position, length);
        return position + length;
    }

    int length(int rank) {
        return offsets[rank + 1] - offsets[rank];
    }

    private static int hash(byte[] bytes, int from, int to) {
        int h = 0x811C9DC5;
        for (int i = from; i < to; i++) h = (h ^ bytes[i]) * 0x01000193;
        return h ^ (h >>> 15);
    }
}
