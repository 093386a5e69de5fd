package io.tramontane.weights;

import java.util.Arrays;

/**
 * The per-layer scales of an FP8 KV cache: layer l stores e4m3(k / keys[l]) and e4m3(v / values[l]), so a calibrated
 * scale of max |k| / 448 uses e4m3's whole range. Read from the checkpoint where it has them (MODELS.md 2.4: native
 * {@code layers.N.attention.kv_fake_quantizer.qscale_act}, or {@code k_/v_fake_quantizer}; HF {@code self_attn.k_scale},
 * {@code v_scale}, {@code kv_scale}), else {@link #ones} (vLLM's default too). BF16 and F32 caches ignore them.
 */
public record KvCacheScales(float[] keys, float[] values) {
    public KvCacheScales {
        if (keys.length != values.length) {
            throw new IllegalArgumentException("kv cache scales: " + keys.length + " key scales but " + values.length
                    + " value scales");
        }
        keys = keys.clone();
        values = values.clone();
        for (int l = 0; l < keys.length; l++) {
            if (!(keys[l] > 0 && Float.isFinite(keys[l]) && values[l] > 0 && Float.isFinite(values[l]))) {
                throw new IllegalArgumentException("kv cache scales of layer " + l + " must be finite and positive: k "
                        + keys[l] + ", v " + values[l]);
            }
        }
    }

    /** Scale 1 for K and V of every layer. */
    public static KvCacheScales ones(int layers) {
        float[] ones = new float[layers];
        Arrays.fill(ones, 1f);
        return new KvCacheScales(ones, ones);
    }

    /** Whether every scale is 1: what a cache uses without calibrated scales. */
    public boolean isUnit() {
        for (int l = 0; l < keys.length; l++) if (keys[l] != 1f || values[l] != 1f) return false;
        return true;
    }

    public int layers() {
        return keys.length;
    }

    public float key(int layer) {
        return keys[layer];
    }

    public float value(int layer) {
        return values[layer];
    }
}
