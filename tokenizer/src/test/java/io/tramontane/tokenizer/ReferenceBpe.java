package io.tramontane.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The textbook quadratic BPE, to check the fast encoder against: split with the pattern, then merge the lowest-rank
 * adjacent pair (leftmost on ties) by rescanning every pair after every merge.
 */
final class ReferenceBpe {
    private final Tekken tekken;
    private final Map<String, Integer> ranks = new HashMap<>();

    ReferenceBpe(Tekken tekken) {
        this.tekken = tekken;
        List<byte[]> vocab = tekken.file().vocab();
        for (int rank = 0; rank < tekken.file().ordinaryTokenCount(); rank++) ranks.put(key(vocab.get(rank)), rank);
    }

    int[] encode(String text) {
        List<Integer> ids = new ArrayList<>();
        for (String piece : tekken.pieces(text)) {
            for (String part : merge(piece.getBytes(StandardCharsets.UTF_8))) {
                ids.add(ranks.get(part) + tekken.numSpecialTokens());
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private List<String> merge(byte[] bytes) {
        List<String> parts = new ArrayList<>();
        for (byte b : bytes) parts.add(key(new byte[] {b}));
        while (parts.size() > 1) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer rank = ranks.get(parts.get(i) + parts.get(i + 1));
                if (rank != null && rank < bestRank) {
                    best = i;
                    bestRank = rank;
                }
            }
            if (best < 0) break;
            parts.set(best, parts.get(best) + parts.remove(best + 1));
        }
        return parts;
    }

    /** Bytes as a string of chars 0..255, so concatenation is byte concatenation. */
    private static String key(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
