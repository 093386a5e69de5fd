package io.tramontane.backend.cuda;

/**
 * How the CUDA backend stores cached keys and values. BF16 (the default) halves the cache and what decode reads, and
 * feeds the tensor-core attention kernels; FP8_E4M3 halves it again (vLLM's {@code --kv-cache-dtype fp8}: e4m3 of
 * x / scale, one scale per layer for K and one for V, {@link io.tramontane.weights.KvCacheScales}) and its tiles are decoded to BF16 for the
 * same tensor-core kernels; F32 keeps the CPU backend's exact values and runs the generic kernel.
 */
public enum KvCacheDtype {
    BF16(2, "bf16"),
    FP8_E4M3(1, "e4m3"),
    F32(4, "f32");

    /** Bytes per cached element. */
    public final int bytes;
    /** The suffix of its kv_store and generic attention kernels. */
    final String suffix;

    KvCacheDtype(int bytes, String suffix) {
        this.bytes = bytes;
        this.suffix = suffix;
    }

    /** The dtype named by the CLI's {@code --kv-cache-dtype}: bf16 or fp8 (e4m3, as vLLM names it). */
    public static KvCacheDtype parse(String name) {
        return switch (name) {
            case "bf16" -> BF16;
            case "fp8" -> FP8_E4M3;
            default -> throw new IllegalArgumentException("--kv-cache-dtype must be bf16 or fp8, not '" + name + "'");
        };
    }
}
