package io.tramontane.model;

/**
 * Which part of the model one tensor-parallel rank holds: a contiguous range of query heads (with the
 * key/value heads they read, replicated when there are fewer kv heads than ranks), of FFN hidden
 * units (per expert for MoE) and of vocabulary rows of the output head.
 */
public record Shard(int rank, int ranks, int firstHead, int heads, int firstKvHead, int kvHeads,
                    int firstHidden, int hidden, int firstVocab, int vocab) {

    public static Shard of(ModelConfig config, int rank, int ranks) {
        if (ranks < 1 || rank < 0 || rank >= ranks) throw new IllegalArgumentException("rank " + rank + " of " + ranks);
        if (config.nHeads() % ranks != 0) {
            throw new IllegalArgumentException("tensor parallelism " + ranks + " must divide n_heads " + config.nHeads());
        }
        int heads = config.nHeads() / ranks, firstHead = rank * heads, group = config.groupSize();
        int firstKv = firstHead / group, lastKv = (firstHead + heads - 1) / group;
        int kvHeads = lastKv - firstKv + 1;
        // the backend maps local head h to local kv head h / (heads / kvHeads): it must agree with the global rule
        for (int h = 0; h < heads; h++) {
            if (heads % kvHeads != 0 || (firstHead + h) / group - firstKv != h / (heads / kvHeads)) {
                throw new IllegalArgumentException("tensor parallelism " + ranks + " splits the kv groups of "
                        + config.nHeads() + " heads / " + config.nKvHeads() + " kv heads unevenly");
            }
        }
        int firstHidden = split(config.hiddenDim(), ranks, rank), hidden = split(config.hiddenDim(), ranks, rank + 1) - firstHidden;
        int firstVocab = split(config.vocabSize(), ranks, rank), vocab = split(config.vocabSize(), ranks, rank + 1) - firstVocab;
        return new Shard(rank, ranks, firstHead, heads, firstKv, kvHeads, firstHidden, hidden, firstVocab, vocab);
    }

    private static int split(int n, int parts, int index) {
        return (int) ((long) n * index / parts);
    }
}
