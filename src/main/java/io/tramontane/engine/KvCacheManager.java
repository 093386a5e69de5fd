package io.tramontane.engine;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Owns the KV cache blocks of one model (engine thread only): reference counts, a free list, and the
 * prefix cache. A full block is keyed by a hash chained over its tokens and its parent block's key,
 * so equal keys mean equal prefixes (the tokens are kept and compared too, so a hash collision can
 * never serve wrong keys and values). Unreferenced cached blocks stay reusable until evicted in LRU order.
 */
final class KvCacheManager {
    private final int blockSize;
    private final int[] references;
    private final long[] keys;              // prefix-cache key of a cached block
    private final int[][] blockTokens;      // the tokens a cached block holds, to verify hits
    private final long[] parentKeys;
    private final boolean[] cached;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>();  // cached, unreferenced; oldest first
    private final Map<Long, Integer> byKey = new HashMap<>();
    private final boolean prefixCaching;
    private long queriedTokens, hitTokens;

    KvCacheManager(int blocks, int blockSize, boolean prefixCaching) {
        this.blockSize = blockSize;
        this.references = new int[blocks];
        this.keys = new long[blocks];
        this.blockTokens = new int[blocks][];
        this.parentKeys = new long[blocks];
        this.cached = new boolean[blocks];
        this.prefixCaching = prefixCaching;
        for (int b = 0; b < blocks; b++) free.add(b);
    }

    int blockSize() {
        return blockSize;
    }

    int totalBlocks() {
        return references.length;
    }

    /** Blocks that can be handed out now: free ones and evictable cached ones. */
    int availableBlocks() {
        return free.size() + evictable.size();
    }

    int cachedBlocks() {
        return byKey.size();
    }

    long queriedTokens() {
        return queriedTokens;
    }

    long hitTokens() {
        return hitTokens;
    }

    /** The key of a full block holding {@code tokens[from, from + blockSize)} after the block keyed {@code parent}. */
    static long key(long parent, int[] tokens, int from, int blockSize) {
        long h = parent * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        for (int i = from; i < from + blockSize; i++) {
            h ^= tokens[i] + 0x9E3779B97F4A7C15L + (h << 6) + (h >>> 2);
            h *= 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
        }
        return h;
    }

    /**
     * Takes references on the cached blocks holding the longest cached prefix of {@code tokens[0, limit)}
     * (whole blocks only) and appends them to the sequence's table. Returns the number of tokens covered.
     */
    int reusePrefix(Sequence s, int limit) {
        if (!prefixCaching) return 0;
        queriedTokens += limit;
        long parent = 0;
        int covered = 0;
        while (covered + blockSize <= limit) {
            long key = key(parent, s.tokens, covered, blockSize);
            Integer block = byKey.get(key);
            if (block == null || parentKeys[block] != parent
                    || !Arrays.equals(blockTokens[block], 0, blockSize, s.tokens, covered, covered + blockSize)) break;
            if (references[block]++ == 0) evictable.remove(block);
            s.addCachedBlock(block, key);
            parent = key;
            covered += blockSize;
        }
        hitTokens += covered;
        return covered;
    }

    /** One block for a sequence, or -1 when every block is referenced. Evicts the least recently used cached block. */
    int allocate() {
        Integer block = free.poll();
        if (block == null) {
            var oldest = evictable.iterator();
            if (!oldest.hasNext()) return -1;
            block = oldest.next();
            oldest.remove();
            byKey.remove(keys[block]);
            cached[block] = false;
            blockTokens[block] = null;
        }
        references[block] = 1;
        return block;
    }

    /** Registers the sequence's full blocks that are computed but not yet in the prefix cache. */
    void cacheFullBlocks(Sequence s) {
        if (!prefixCaching) return;
        while (s.hashedBlocks < s.blocks && (s.hashedBlocks + 1) * blockSize <= s.computed) {
            int index = s.hashedBlocks, block = s.blockTable[index];
            long parent = index == 0 ? 0 : s.blockKeys[index - 1];
            long key = key(parent, s.tokens, index * blockSize, blockSize);
            s.blockKeys[index] = key;
            s.hashedBlocks++;
            if (cached[block] || byKey.containsKey(key)) continue;  // already cached (reused or a twin)
            byKey.put(key, block);
            keys[block] = key;
            parentKeys[block] = parent;
            blockTokens[block] = Arrays.copyOfRange(s.tokens, index * blockSize, (index + 1) * blockSize);
            cached[block] = true;
        }
    }

    /** Drops the sequence's references; its cached blocks stay reusable, the others become free. */
    void release(Sequence s) {
        release(s.blockTable, s.blocks);
        s.clearBlocks();
    }

    /** Drops one reference on each of {@code table[0, count)}. */
    void release(int[] table, int count) {
        for (int i = count - 1; i >= 0; i--) {  // tail first: the LRU order evicts a prefix's last blocks first
            int block = table[i];
            if (--references[block] == 0) {
                if (cached[block]) evictable.add(block);
                else free.push(block);
            }
        }
    }
}
