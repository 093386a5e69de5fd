package io.tramontane.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test helper: every canonical tensor of a model by a layout-independent name, compared byte for byte. */
final class CanonicalTensors {
    private CanonicalTensors() {}

    static Map<String, Linear> linears(ModelWeights w) {
        Map<String, Linear> out = new LinkedHashMap<>();
        for (int i = 0; i < w.layers().size(); i++) {
            LayerWeights l = w.layers().get(i);
            out.put(i + ".wq", l.wq());
            out.put(i + ".wk", l.wk());
            out.put(i + ".wv", l.wv());
            out.put(i + ".wo", l.wo());
            List<FeedForward.Dense> mlps = new ArrayList<>();
            switch (l.ffn()) {
                case FeedForward.Dense d -> mlps.add(d);
                case FeedForward.Moe m -> {
                    out.put(i + ".router", Linear.of(m.router()));
                    mlps.addAll(m.experts());
                }
            }
            for (int e = 0; e < mlps.size(); e++) {
                out.put(i + ".ffn" + e + ".w1", mlps.get(e).w1());
                out.put(i + ".ffn" + e + ".w2", mlps.get(e).w2());
                out.put(i + ".ffn" + e + ".w3", mlps.get(e).w3());
            }
            out.put(i + ".attention_norm", Linear.of(l.attentionNorm()));
            out.put(i + ".ffn_norm", Linear.of(l.ffnNorm()));
        }
        out.put("embeddings", Linear.of(w.tokenEmbeddings()));
        out.put("norm", Linear.of(w.finalNorm()));
        out.put("output", Linear.of(w.output()));
        return out;
    }

    /** Same dtype, shape, scales and bytes in every row. */
    static void assertIdentical(ModelWeights a, ModelWeights b) {
        Map<String, Linear> left = linears(a), right = linears(b);
        assertThat(right.keySet()).containsExactlyElementsOf(left.keySet());
        assertThat(b.kvCacheScales().keys()).as("KV-cache key scales").isEqualTo(a.kvCacheScales().keys());
        assertThat(b.kvCacheScales().values()).as("KV-cache value scales").isEqualTo(a.kvCacheScales().values());
        for (String name : left.keySet()) {
            Linear x = left.get(name), y = right.get(name);
            assertThat(y.weight().dtype()).as(name).isEqualTo(x.weight().dtype());
            assertThat(y.weight().rows()).as(name).isEqualTo(x.weight().rows());
            assertThat(y.weight().cols()).as(name).isEqualTo(x.weight().cols());
            assertThat(Float.floatToRawIntBits(y.weightScale())).as(name).isEqualTo(Float.floatToRawIntBits(x.weightScale()));
            assertThat(Float.floatToRawIntBits(y.activationScale())).as(name).isEqualTo(Float.floatToRawIntBits(x.activationScale()));
            for (long r = 0; r < x.weight().rows(); r++) {
                byte[] rowX = x.weight().rowBytes(r).toArray(ValueLayout.JAVA_BYTE);
                byte[] rowY = y.weight().rowBytes(r).toArray(ValueLayout.JAVA_BYTE);
                assertThat(rowY).as("%s row %d", name, r).isEqualTo(rowX);
            }
        }
    }
}
