package io.tramontane.backend;

/**
 * Paged key/value storage of one backend (one tensor-parallel rank): for every layer, a pool of
 * {@code blocks} blocks of {@code blockSize} tokens x {@code kvHeads} heads x {@code headDim}. Which
 * block belongs to which sequence is decided by the engine's block tables, never by the backend.
 */
public interface KvCache extends AutoCloseable {
    int blocks();

    int blockSize();

    @Override
    void close();
}
