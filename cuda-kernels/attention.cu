// Paged causal GQA attention (bodies in attention_core.cuh, launched by AttentionKernels.java):
//  - kv_store_f32 / kv_store_bf16: the step's new k/v rows into the layer's pools (BF16: rounded to nearest even);
//  - attention_f32 / attention_bf16: the generic kernel (any head_dim <= 256; the FP32 cache's path);
//  - attention_prefill_d64 / _d128: flash-attention-2 on tensor cores for prefill segments over a BF16 cache;
//  - attention_decode_d64 / _d128 + attention_reduce: paged flash-decoding for single rows over a BF16 cache;
//  - kv_store_e4m3, attention_e4m3, attention_prefill_d64_e4m3 / _d128_e4m3, attention_decode_d64_e4m3 / _d128_e4m3:
//    the same over an FP8 e4m3 cache with per-layer K and V scales (tiles decoded to BF16 into shared memory).
#include "common.cuh"
#include "attention_core.cuh"

namespace {
namespace attn = tramontane::attention;

extern __shared__ __align__(16) unsigned char attention_smem[];

// The hardware the kernel bodies run on (test/attention_emulator.cpp has the host emulation of each).
struct DeviceOps : tramontane::DeviceOpsBase {
    static __device__ __forceinline__ unsigned char* shared() { return attention_smem; }
    static __device__ __forceinline__ float exp(float x) { return expf(x); }
    static __device__ __forceinline__ float exp2(float x) { return exp2f(x); }
    // lo in the low half, as mma reads element pairs
    static __device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
        const __nv_bfloat162 pair = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<const uint32_t*>(&pair);
    }
    using tramontane::DeviceOpsBase::load4;  // FP32; the cache formats below
    static __device__ __forceinline__ void load4(const uint16_t* p, float (&out)[4]) {
        const uint2 v = __ldg(reinterpret_cast<const uint2*>(p));
        out[0] = __uint_as_float(v.x << 16);
        out[1] = __uint_as_float(v.x & 0xffff0000u);
        out[2] = __uint_as_float(v.y << 16);
        out[3] = __uint_as_float(v.y & 0xffff0000u);
    }
    static __device__ __forceinline__ void load4(const uint8_t* p, float (&out)[4]) {
        const uint32_t v = __ldg(reinterpret_cast<const unsigned int*>(p));
        e4m3x2(v & 0xffffu, out[0], out[1]);
        e4m3x2(v >> 16, out[2], out[3]);
    }
    static __device__ __forceinline__ void load8(const uint8_t* p, uint32_t (&out)[2]) {
        const uint2 v = __ldg(reinterpret_cast<const uint2*>(p));
        out[0] = v.x;
        out[1] = v.y;
    }
    static __device__ __forceinline__ void store_shared16(uint16_t* p, const uint32_t (&v)[4]) {
        *reinterpret_cast<uint4*>(p) = make_uint4(v[0], v[1], v[2], v[3]);
    }
    static __device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const uint16_t* p) {
        const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(p));
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                     : "r"(address)
                     : "memory");
    }
    static __device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const uint16_t* p) {
        const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(p));
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                     : "r"(address)
                     : "memory");
    }
    // c += a b: A 16x16 BF16 row-major, B 16x8 BF16 col-major, C 16x8 FP32
    static __device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
            "{%0, %1, %2, %3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
};
}  // namespace

HOT_KERNEL void __launch_bounds__(attn::STORE_THREADS) kv_store_f32(
    const float* __restrict__ k, const float* __restrict__ v, const int* __restrict__ rows,
    const int* __restrict__ slots, float* __restrict__ k_pool, float* __restrict__ v_pool, int width) {
    attn::kv_store<float, DeviceOps>(k, v, rows, slots, k_pool, v_pool, width);
}

HOT_KERNEL void __launch_bounds__(attn::STORE_THREADS) kv_store_bf16(
    const float* __restrict__ k, const float* __restrict__ v, const int* __restrict__ rows,
    const int* __restrict__ slots, uint16_t* __restrict__ k_pool, uint16_t* __restrict__ v_pool, int width) {
    attn::kv_store<uint16_t, DeviceOps>(k, v, rows, slots, k_pool, v_pool, width);
}

HOT_KERNEL void __launch_bounds__(attn::GENERIC_THREADS) attention_f32(
    const float* __restrict__ q, const float* __restrict__ k_pool, const float* __restrict__ v_pool,
    const int* __restrict__ rows, const int* __restrict__ positions, const int* __restrict__ table_offsets,
    const int* __restrict__ tables, float* __restrict__ out, int q_cols, int head_dim, int kv_width, int group,
    int block_size, float scale) {
    attn::generic<float, DeviceOps>(q, k_pool, v_pool, rows, positions, table_offsets, tables, out, q_cols, head_dim,
                                    kv_width, group, block_size, scale);
}

HOT_KERNEL void __launch_bounds__(attn::GENERIC_THREADS) attention_bf16(
    const float* __restrict__ q, const uint16_t* __restrict__ k_pool, const uint16_t* __restrict__ v_pool,
    const int* __restrict__ rows, const int* __restrict__ positions, const int* __restrict__ table_offsets,
    const int* __restrict__ tables, float* __restrict__ out, int q_cols, int head_dim, int kv_width, int group,
    int block_size, float scale) {
    attn::generic<uint16_t, DeviceOps>(q, k_pool, v_pool, rows, positions, table_offsets, tables, out, q_cols,
                                       head_dim, kv_width, group, block_size, scale);
}

// head_dim 64: 128-row Q tiles (8 warps); head_dim 128: 64-row Q tiles (4 warps), so O stays in registers.
HOT_KERNEL void __launch_bounds__(256, 2) attention_prefill_d64(
    const float* __restrict__ q, const uint16_t* __restrict__ k_pool, const uint16_t* __restrict__ v_pool,
    const int* __restrict__ tiles, const int* __restrict__ tables, float* __restrict__ out, int q_cols, int kv_width,
    int group, int block_size, float scale) {
    attn::prefill<64, 8, DeviceOps>(q, k_pool, v_pool, tiles, tables, out, q_cols, kv_width, group, block_size, scale);
}

HOT_KERNEL void __launch_bounds__(128, 2) attention_prefill_d128(
    const float* __restrict__ q, const uint16_t* __restrict__ k_pool, const uint16_t* __restrict__ v_pool,
    const int* __restrict__ tiles, const int* __restrict__ tables, float* __restrict__ out, int q_cols, int kv_width,
    int group, int block_size, float scale) {
    attn::prefill<128, 4, DeviceOps>(q, k_pool, v_pool, tiles, tables, out, q_cols, kv_width, group, block_size,
                                     scale);
}

HOT_KERNEL void __launch_bounds__(attn::DECODE_THREADS, 4) attention_decode_d64(
    const float* __restrict__ q, const uint16_t* __restrict__ k_pool, const uint16_t* __restrict__ v_pool,
    const int* __restrict__ units, const int* __restrict__ tables, float* __restrict__ out,
    float* __restrict__ partial_o, float* __restrict__ partial_ml, int q_cols, int kv_width, int group,
    int block_size, float scale) {
    attn::decode<64, DeviceOps>(q, k_pool, v_pool, units, tables, out, partial_o, partial_ml, q_cols, kv_width, group,
                                block_size, scale);
}

HOT_KERNEL void __launch_bounds__(attn::DECODE_THREADS, 3) attention_decode_d128(
    const float* __restrict__ q, const uint16_t* __restrict__ k_pool, const uint16_t* __restrict__ v_pool,
    const int* __restrict__ units, const int* __restrict__ tables, float* __restrict__ out,
    float* __restrict__ partial_o, float* __restrict__ partial_ml, int q_cols, int kv_width, int group,
    int block_size, float scale) {
    attn::decode<128, DeviceOps>(q, k_pool, v_pool, units, tables, out, partial_o, partial_ml, q_cols, kv_width,
                                 group, block_size, scale);
}

HOT_KERNEL void __launch_bounds__(attn::REDUCE_THREADS) attention_reduce(
    const int* __restrict__ items, const float* __restrict__ partial_o, const float* __restrict__ partial_ml,
    float* __restrict__ out, int q_cols, int head_dim) {
    attn::reduce<DeviceOps>(items, partial_o, partial_ml, out, q_cols, head_dim);
}

// ---- FP8 e4m3 cache: scale = softmax scale x K scale; v_scale multiplies the output.

HOT_KERNEL void __launch_bounds__(attn::STORE_THREADS) kv_store_e4m3(
    const float* __restrict__ k, const float* __restrict__ v, const int* __restrict__ rows,
    const int* __restrict__ slots, uint8_t* __restrict__ k_pool, uint8_t* __restrict__ v_pool, int width,
    float k_scale, float v_scale) {
    attn::kv_store_e4m3<DeviceOps>(k, v, rows, slots, k_pool, v_pool, width, k_scale, v_scale);
}

HOT_KERNEL void __launch_bounds__(attn::GENERIC_THREADS) attention_e4m3(
    const float* __restrict__ q, const uint8_t* __restrict__ k_pool, const uint8_t* __restrict__ v_pool,
    const int* __restrict__ rows, const int* __restrict__ positions, const int* __restrict__ table_offsets,
    const int* __restrict__ tables, float* __restrict__ out, int q_cols, int head_dim, int kv_width, int group,
    int block_size, float scale, float v_scale) {
    attn::generic_e4m3<DeviceOps>(q, k_pool, v_pool, rows, positions, table_offsets, tables, out, q_cols, head_dim,
                                  kv_width, group, block_size, scale, v_scale);
}

HOT_KERNEL void __launch_bounds__(256, 2) attention_prefill_d64_e4m3(
    const float* __restrict__ q, const uint8_t* __restrict__ k_pool, const uint8_t* __restrict__ v_pool,
    const int* __restrict__ tiles, const int* __restrict__ tables, float* __restrict__ out, int q_cols, int kv_width,
    int group, int block_size, float scale, float v_scale) {
    attn::prefill_e4m3<64, 8, DeviceOps>(q, k_pool, v_pool, tiles, tables, out, q_cols, kv_width, group, block_size,
                                         scale, v_scale);
}

HOT_KERNEL void __launch_bounds__(128, 2) attention_prefill_d128_e4m3(
    const float* __restrict__ q, const uint8_t* __restrict__ k_pool, const uint8_t* __restrict__ v_pool,
    const int* __restrict__ tiles, const int* __restrict__ tables, float* __restrict__ out, int q_cols, int kv_width,
    int group, int block_size, float scale, float v_scale) {
    attn::prefill_e4m3<128, 4, DeviceOps>(q, k_pool, v_pool, tiles, tables, out, q_cols, kv_width, group,
                                          block_size, scale, v_scale);
}

HOT_KERNEL void __launch_bounds__(attn::DECODE_THREADS, 4) attention_decode_d64_e4m3(
    const float* __restrict__ q, const uint8_t* __restrict__ k_pool, const uint8_t* __restrict__ v_pool,
    const int* __restrict__ units, const int* __restrict__ tables, float* __restrict__ out,
    float* __restrict__ partial_o, float* __restrict__ partial_ml, int q_cols, int kv_width, int group,
    int block_size, float scale, float v_scale) {
    attn::decode_e4m3<64, DeviceOps>(q, k_pool, v_pool, units, tables, out, partial_o, partial_ml, q_cols, kv_width,
                                     group, block_size, scale, v_scale);
}

HOT_KERNEL void __launch_bounds__(attn::DECODE_THREADS, 3) attention_decode_d128_e4m3(
    const float* __restrict__ q, const uint8_t* __restrict__ k_pool, const uint8_t* __restrict__ v_pool,
    const int* __restrict__ units, const int* __restrict__ tables, float* __restrict__ out,
    float* __restrict__ partial_o, float* __restrict__ partial_ml, int q_cols, int kv_width, int group,
    int block_size, float scale, float v_scale) {
    attn::decode_e4m3<128, DeviceOps>(q, k_pool, v_pool, units, tables, out, partial_o, partial_ml, q_cols, kv_width,
                                      group, block_size, scale, v_scale);
}
