package io.tramontane.demo;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a byte-level BPE vocabulary from text: the 256 bytes, then repeatedly the most frequent
 * adjacent pair inside pre-tokenized pieces (lowest ids on ties). Ranks follow merge order, which is
 * exactly what rank-ordered BPE encoding expects. Deterministic for a given text.
 */
final class BpeTrainer {
    private BpeTrainer() {}

    static List<byte[]> train(String text, String pattern, int merges) {
        Map<List<Integer>, Integer> pieces = new LinkedHashMap<>();
        Matcher m = Pattern.compile(pattern, Pattern.UNICODE_CHARACTER_CLASS).matcher(text);
        while (m.find()) {
            byte[] bytes = m.group().getBytes(StandardCharsets.UTF_8);
            List<Integer> ids = new ArrayList<>();
            for (byte b : bytes) ids.add(b & 0xFF);
            pieces.merge(ids, 1, Integer::sum);
        }
        List<int[]> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        pieces.forEach((ids, count) -> {
            words.add(ids.stream().mapToInt(Integer::intValue).toArray());
            counts.add(count);
        });
        List<byte[]> vocab = new ArrayList<>();
        for (int b = 0; b < 256; b++) vocab.add(new byte[] {(byte) b});
        Set<String> known = new HashSet<>();
        for (byte[] v : vocab) known.add(Arrays.toString(v));
        Set<Long> excluded = new HashSet<>();
        for (int merge = 0; merge < merges; merge++) {
            long best = bestPair(words, counts, excluded);
            if (best < 0) break;
            int left = (int) (best >>> 32), right = (int) best;
            byte[] joined = concat(vocab.get(left), vocab.get(right));
            if (!known.add(Arrays.toString(joined))) {  // another pair already made these bytes
                excluded.add(best);
                merge--;
                continue;
            }
            int id = vocab.size();
            vocab.add(joined);
            for (int w = 0; w < words.size(); w++) words.set(w, replace(words.get(w), left, right, id));
        }
        return vocab;
    }

    private static long bestPair(List<int[]> words, List<Integer> counts, Set<Long> excluded) {
        Map<Long, Integer> frequency = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            int[] ids = words.get(w);
            for (int i = 0; i + 1 < ids.length; i++) frequency.merge(((long) ids[i] << 32) | ids[i + 1], counts.get(w), Integer::sum);
        }
        long best = -1;
        int bestCount = 1;  // a pair seen once is not worth a token
        for (var e : frequency.entrySet()) {
            long pair = e.getKey();
            if (excluded.contains(pair)) continue;
            if (e.getValue() > bestCount || (e.getValue() == bestCount && best >= 0 && pair < best)) {
                best = pair;
                bestCount = e.getValue();
            }
        }
        return best;
    }

    private static int[] replace(int[] ids, int left, int right, int id) {
        int[] out = new int[ids.length];
        int n = 0;
        for (int i = 0; i < ids.length; i++) {
            if (i + 1 < ids.length && ids[i] == left && ids[i + 1] == right) {
                out[n++] = id;
                i++;
            } else {
                out[n++] = ids[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(a.length + b.length);
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }
}
