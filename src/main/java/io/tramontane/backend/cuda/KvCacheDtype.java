package io.tramontane.backend.cuda;

/**
 * How the CUDA backend stores cached keys and values. BF16 (the default) halves the cache and what decode reads, and
 * feeds the tensor-core attention kernels; F32 keeps the CPU backend's exact values and runs the generic kernel.
 */
public enum KvCacheDtype {
    BF16(2, "bf16"),
    F32(4, "f32");

    final int bytes;
    /** The suffix of its kv_store and generic attention kernels. */
    final String suffix;

    KvCacheDtype(int bytes, String suffix) {
        this.bytes = bytes;
        this.suffix = suffix;
    }
}
