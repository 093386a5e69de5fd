package io.tramontane.backend;

/**
 * How a backend stores cached keys and values. BF16 (the default on both backends) halves the cache and what decode
 * attention reads against F32; FP8_E4M3 (CUDA only) halves it again (vLLM's {@code --kv-cache-dtype fp8}: e4m3 of
 * x / scale, one scale per layer for K and one for V, {@link io.tramontane.weights.KvCacheScales}); F32 keeps every
 * value as computed (the exact path the golden cases' FP32 tolerance holds).
 */
public enum KvCacheDtype {
    BF16(2, "bf16"),
    FP8_E4M3(1, "e4m3"),
    F32(4, "f32");

    /** Bytes per cached element. */
    public final int bytes;
    /** The suffix of its CUDA kv_store and generic attention kernels. */
    public final String suffix;

    KvCacheDtype(int bytes, String suffix) {
        this.bytes = bytes;
        this.suffix = suffix;
    }

    /** The dtype named by the CLI's {@code --kv-cache-dtype}: bf16, fp8 (e4m3, as vLLM names it) or f32. */
    public static KvCacheDtype parse(String name) {
        return switch (name) {
            case "bf16" -> BF16;
            case "fp8" -> FP8_E4M3;
            case "f32" -> F32;
            default -> throw new IllegalArgumentException("--kv-cache-dtype must be bf16, fp8 or f32, not '" + name + "'");
        };
    }

    /** Refuses a null dtype, and fp8 on a backend other than cuda (the CPU caches bf16 or f32). */
    public static void requireFor(String backend, KvCacheDtype dtype) {
        if (dtype == null) throw new IllegalArgumentException("KV cache dtype must be given (bf16, fp8 or f32)");
        if (dtype == FP8_E4M3 && !backend.equals("cuda")) {
            throw new IllegalArgumentException("KV cache dtype fp8 applies to the cuda backend only (the CPU caches bf16 "
                    + "or f32)");
        }
    }

    /** Its {@code --kv-cache-dtype} name. */
    public String cliName() {
        return this == FP8_E4M3 ? "fp8" : suffix;
    }
}
