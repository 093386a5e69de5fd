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
            int work = s.length() * heads;
            threads.parallelFor(work, 1, (from, to) -> {
                float[] scores = new float[s.start() + s.length()];
                for (int unit = from; unit < to; unit++) {
                    int i = unit / heads, h = unit % heads, kvHead = h / group;
                    int row = s.firstRow() + i, position = s.start() + i;
                    int qOffset = row * q.cols() + h * headDim, oOffset = row * out.cols() + h * headDim;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j <= position; j++) {
                        int kOffset = cache.rowOffset(s.blockTable(), j) + kvHead * headDim;
                        scores[j] = VectorMath.dot(q.data(), qOffset, keys, kOffset, headDim) * scale;
                        max = Math.max(max, scores[j]);
                    }
                    float sum = 0;
                    for (int j = 0; j <= position; j++) {
                        scores[j] = (float) Math.exp(scores[j] - max);
                        sum += scores[j];
                    }
                    java.util.Arrays.fill(out.data(), oOffset, oOffset + headDim, 0f);
                    for (int j = 0; j <= position; j++) {
                        int vOffset = cache.rowOffset(s.blockTable(), j) + kvHead * headDim;
                        VectorMath.axpy(scores[j] / sum, values, vOffset, out.data(), oOffset, headDim);
                    }
                }
            });
        }
    }
}
