package io.tramontane.backend.cpu;

import io.tramontane.backend.AttentionBatch;

/** Causal GQA attention over the paged FP32 KV cache, one (token, head) pair per unit of work. */
final class CpuAttention {
    private CpuAttention() {}

    static void run(CpuThreads threads, CpuActivation q, CpuActivation k, CpuActivation v, CpuKvCache cache, int layer,
                    AttentionBatch batch, float scale, CpuActivation out) {
        int headDim = cache.headDim, kvHeads = cache.kvHeads, kvWidth = kvHeads * headDim;
        int heads = q.cols() / headDim, group = heads / kvHeads;
        float[] keys = cache.keys[layer], values = cache.values[layer];
        for (AttentionBatch.Segment s : batch.segments()) {
            for (int i = 0; i < s.length(); i++) {
                int dst = cache.rowOffset(s.blockTable(), s.start() + i), src = (s.firstRow() + i) * kvWidth;
                System.arraycopy(k.data(), src, keys, dst, kvWidth);
                System.arraycopy(v.data(), src, values, dst, kvWidth);
            }
        }
        for (AttentionBatch.Segment s : batch.segments()) {
            // one unit = one token's query heads of one kv head: each cached key and value row is read once
            // for its whole group (GQA), not once per query head
            int work = s.length() * kvHeads;
            threads.parallelFor(work, 1, (from, to) -> {
                int positions = s.start() + s.length();
                float[][] scores = new float[group][positions];
                float[] max = new float[group], sum = new float[group];
                for (int unit = from; unit < to; unit++) {
                    int i = unit / kvHeads, kvHead = unit % kvHeads;
                    int row = s.firstRow() + i, position = s.start() + i;
                    int firstHead = kvHead * group;
                    java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
                    for (int j = 0; j <= position; j++) {
                        int kOffset = cache.rowOffset(s.blockTable(), j) + kvHead * headDim;
                        for (int g = 0; g < group; g++) {
                            int qOffset = row * q.cols() + (firstHead + g) * headDim;
                            float score = VectorMath.dot(q.data(), qOffset, keys, kOffset, headDim) * scale;
                            scores[g][j] = score;
                            max[g] = Math.max(max[g], score);
                        }
                    }
                    for (int g = 0; g < group; g++) {
                        float total = 0;
                        for (int j = 0; j <= position; j++) {
                            scores[g][j] = (float) Math.exp(scores[g][j] - max[g]);
                            total += scores[g][j];
                        }
                        sum[g] = total;
                        int oOffset = row * out.cols() + (firstHead + g) * headDim;
                        java.util.Arrays.fill(out.data(), oOffset, oOffset + headDim, 0f);
                    }
                    for (int j = 0; j <= position; j++) {
                        int vOffset = cache.rowOffset(s.blockTable(), j) + kvHead * headDim;
                        for (int g = 0; g < group; g++) {
                            int oOffset = row * out.cols() + (firstHead + g) * headDim;
                            VectorMath.axpy(scores[g][j] / sum[g], values, vOffset, out.data(), oOffset, headDim);
                        }
                    }
                }
            });
        }
    }
}
