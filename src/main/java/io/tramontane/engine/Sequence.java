package io.tramontane.engine;

import io.tramontane.sampling.Sampler;
import java.util.Arrays;
import java.util.function.Consumer;

/** One request's state inside the engine (engine thread only, except the cancel flag). */
final class Sequence implements Generation {
    final GenerationRequest request;
    final Sampler sampler;
    final StopStrings stops;
    final Consumer<TokenEvent> listener;
    int[] tokens;           // prompt followed by generated tokens
    int length;             // valid entries of tokens
    int computed;           // tokens whose keys and values are in the cache
    int[] blockTable = new int[8];
    long[] blockKeys = new long[8];  // prefix-cache keys of the first hashedBlocks blocks
    int blocks;             // valid entries of blockTable
    int hashedBlocks;
    int generated;
    final long arrivalNanos = System.nanoTime();
    private volatile boolean cancelled;

    Sequence(GenerationRequest request, int eosId, Consumer<TokenEvent> listener) {
        this.request = request;
        this.sampler = new Sampler(request.sampling(), request.prompt(), request.sampling().ignoreEos() ? -1 : eosId,
                request.constraint());
        this.stops = new StopStrings(request.sampling().stopStrings());
        this.listener = listener;
        this.tokens = Arrays.copyOf(request.prompt(), request.prompt().length + 16);
        this.length = request.prompt().length;
    }

    void append(int token) {
        if (length == tokens.length) tokens = Arrays.copyOf(tokens, tokens.length * 2);
        tokens[length++] = token;
        generated++;
    }

    /** Appends a fresh block. */
    void addBlock(int block) {
        if (blocks == blockTable.length) {
            blockTable = Arrays.copyOf(blockTable, blocks * 2);
            blockKeys = Arrays.copyOf(blockKeys, blocks * 2);
        }
        blockTable[blocks++] = block;
    }

    /** Appends a block reused from the prefix cache (only before any fresh block). */
    void addCachedBlock(int block, long key) {
        addBlock(block);
        blockKeys[blocks - 1] = key;
        hashedBlocks = blocks;
    }

    void clearBlocks() {
        blocks = 0;
        hashedBlocks = 0;
    }

    /** Tokens not yet in the cache: the prompt (in chunks) at first, then the last sampled token. */
    int uncomputed() {
        return length - computed;
    }

    @Override
    public void cancel() {
        cancelled = true;
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }
}
