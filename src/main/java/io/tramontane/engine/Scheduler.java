package io.tramontane.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides what every step computes (vLLM v1 style, engine thread only). Running sequences go first,
 * in arrival order: one token for each decoding sequence, the next chunk for each unfinished prefill,
 * until the token budget is spent. Then waiting sequences are admitted FCFS, reusing cached prefix
 * blocks, while the budget, the sequence limit and the free blocks allow. When a running sequence
 * needs a block and none is free, the most recently admitted sequence is preempted: it gives its
 * blocks back and later recomputes (its generated tokens are kept, so nothing the client saw changes).
 */
final class Scheduler {

    /** {@code tokens} of {@code sequence} starting at its {@code computed} position. */
    record Work(Sequence sequence, int tokens) {
        boolean samples() {
            return sequence.computed + tokens == sequence.length;
        }
    }

    record Limits(int maxSequences, int maxBatchedTokens) {}

    private final KvCacheManager cache;
    private final Limits limits;
    final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    final List<Sequence> running = new ArrayList<>();
    long preemptions;

    Scheduler(KvCacheManager cache, Limits limits) {
        this.cache = cache;
        this.limits = limits;
    }

    List<Work> schedule() {
        List<Work> work = new ArrayList<>();
        int budget = limits.maxBatchedTokens();
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Sequence s = running.get(i);
            int tokens = Math.min(s.uncomputed(), budget);
            while (!ensureBlocks(s, s.computed + tokens)) {
                Sequence victim = running.getLast();
                preempt(victim);
                if (victim == s) break;
            }
            if (!running.contains(s)) break;  // s itself was preempted: nobody after it can run either
            work.add(new Work(s, tokens));
            budget -= tokens;
        }
        while (budget > 0 && !waiting.isEmpty() && running.size() < limits.maxSequences()) {
            Sequence s = waiting.peek();
            if (s.blocks == 0) {
                // keep at least one token to compute, so the last prompt position yields logits
                s.computed = cache.reusePrefix(s, s.length - 1);
            }
            int tokens = Math.min(s.uncomputed(), budget);
            if (!ensureBlocks(s, s.computed + tokens)) {
                cache.release(s);  // hold nothing while waiting: running sequences may need every block
                s.computed = 0;
                break;
            }
            waiting.poll();
            running.add(s);
            work.add(new Work(s, tokens));
            budget -= tokens;
        }
        return work;
    }

    /** Allocates blocks until the sequence's table covers {@code positions}; false (nothing kept) when the pool is dry. */
    private boolean ensureBlocks(Sequence s, int positions) {
        int needed = (positions + cache.blockSize() - 1) / cache.blockSize();
        while (s.blocks < needed) {
            int block = cache.allocate();
            if (block < 0) return false;
            s.addBlock(block);
        }
        return true;
    }

    private void preempt(Sequence s) {
        running.remove(s);
        cache.release(s);
        s.computed = 0;
        waiting.addFirst(s);
        preemptions++;
    }

    /** Removes a sequence (finished or cancelled) and gives its blocks back. */
    void remove(Sequence s) {
        running.remove(s);
        waiting.remove(s);
        cache.release(s);
    }
}
