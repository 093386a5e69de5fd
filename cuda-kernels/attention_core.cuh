// The attention kernels' bodies, written once against an `Ops` type that supplies the hardware: the thread's
// coordinates, shared memory, barriers, warp shuffles, ldmatrix, mma.sync, cp.async and the BF16 and e4m3
// conversions.
// attention.cu instantiates them with DeviceOps (inline PTX) as extern "C" kernels; test/attention_emulator.cpp
// instantiates them with an emulated warp (32 lanes as fibers, the PTX ISA's fragment layouts) and runs the very
// same code on the host, so the index math is tested without a GPU (AttentionEmulationTest).
//
// KV pools (CudaKvCache): per layer [blocks * block_size, kv_heads * head_dim] of float, BF16 (uint16_t bits) or
// e4m3 (uint8_t bits: x / scale with one scale per layer for K and one for V, saturated to +-448, as vLLM's fp8 KV
// cache); position j of a sequence lives in pool row table[j / block_size] * block_size + j % block_size.
// An e4m3 cache's kernels take the softmax scale times the K scale (q . k_stored * k_scale = q . k) and v_scale, by
// which they multiply the output (o is linear in V); the BF16 and FP32 kernels run the same bodies with v_scale 1.
// q and out: [rows, q_cols] FP32 with q_cols = heads * head_dim; query head h reads kv head h / group.
#pragma once
#include <cstdint>
#ifndef __CUDACC__
#include <cmath>
#endif

#include "core_prelude.cuh"

namespace tramontane::attention {

constexpr float LOG2E = 1.4426950408889634f;
constexpr int WARP = 32;
constexpr int STORE_THREADS = 256;
constexpr int GENERIC_THREADS = 128, GENERIC_MAX_HEAD_DIM = 256;  // generic: two output dims per thread
constexpr int KEY_TILE = 64;                                     // keys per K/V shared-memory stage
constexpr int GROUP_ROWS = 16;                                   // decode: query heads per CTA (one mma M)
constexpr int DECODE_WARPS = 4, DECODE_THREADS = DECODE_WARPS * WARP;
constexpr int REDUCE_THREADS = 128;

// Shared-memory rows of BF16 are padded by 8 elements (16 bytes): the 8 row addresses of one ldmatrix matrix then
// fall in 8 different 16-byte bank groups (row stride 144 or 272 bytes), so ldmatrix is conflict-free.
CORE_CONSTEXPR int padded(int head_dim) { return head_dim + 8; }

// Dynamic shared memory of each kernel, in bytes (AttentionKernels.java has the same formulas).
CORE_CONSTEXPR int generic_smem_bytes() {
    return GENERIC_MAX_HEAD_DIM * 4 + GENERIC_THREADS * 4 + GENERIC_THREADS * 8 + WARP * 4;
}
CORE_CONSTEXPR int prefill_smem_bytes(int head_dim, int warps) {
    return (16 * warps + 4 * KEY_TILE) * padded(head_dim) * 2;  // Q tile, two stages of K and of V
}
CORE_CONSTEXPR int decode_smem_bytes(int head_dim) { return (GROUP_ROWS + 4 * KEY_TILE) * padded(head_dim) * 2; }

CORE_FN int imin(int a, int b) { return a < b ? a : b; }

CORE_FN int64_t pool_row(const int* table, int j, int block_size) {
    return static_cast<int64_t>(table[j / block_size]) * block_size + j % block_size;
}

template <class Ops>
CORE_FN float bf16_to_float(uint16_t bits) {
    return Ops::as_float(static_cast<uint32_t>(bits) << 16);
}

// ---- kv_store: k_pool[slots[i], :] = k[rows[i], :] (v likewise), converted to the pool's type. grid = items.

template <class Ops>
CORE_FN void store_element(float* dst, float x) { *dst = x; }
template <class Ops>
CORE_FN void store_element(uint16_t* dst, float x) { *dst = Ops::to_bf16(x); }

template <typename T, class Ops>
CORE_FN void kv_store(const float* k, const float* v, const int* rows, const int* slots, T* k_pool, T* v_pool,
                      int width) {
    const int64_t src = static_cast<int64_t>(rows[Ops::block_x()]) * width;
    const int64_t dst = static_cast<int64_t>(slots[Ops::block_x()]) * width;
    for (int i = Ops::thread(); i < width; i += STORE_THREADS) {
        store_element<Ops>(k_pool + dst + i, k[src + i]);
        store_element<Ops>(v_pool + dst + i, v[src + i]);
    }
}

// The e4m3 pools: e4m3(k / k_scale), e4m3(v / v_scale), rounded to nearest even and saturated to +-448.
template <class Ops>
CORE_FN void kv_store_e4m3(const float* k, const float* v, const int* rows, const int* slots, uint8_t* k_pool,
                           uint8_t* v_pool, int width, float k_scale, float v_scale) {
    const int64_t src = static_cast<int64_t>(rows[Ops::block_x()]) * width;
    const int64_t dst = static_cast<int64_t>(slots[Ops::block_x()]) * width;
    for (int i = Ops::thread(); i < width; i += STORE_THREADS) {
        k_pool[dst + i] = Ops::to_e4m3(k[src + i] / k_scale);
        v_pool[dst + i] = Ops::to_e4m3(v[src + i] / v_scale);
    }
}

// ---- the generic kernel: any head_dim up to GENERIC_MAX_HEAD_DIM, FP32 or BF16 pools, FP32 arithmetic.

template <class Ops>
CORE_FN float key_element(const float* p) { return *p; }
template <class Ops>
CORE_FN float key_element(const uint16_t* p) { return bf16_to_float<Ops>(*p); }
template <class Ops>
CORE_FN float key_element(const uint8_t* p) { return Ops::e4m3(*p); }

template <class Ops>
CORE_FN float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, Ops::shfl_xor(v, offset));
    return v;
}

template <class Ops>
CORE_FN float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += Ops::shfl_xor(v, offset);
    return v;
}

// Max (is_max) or sum over the GENERIC_THREADS threads; every thread gets it. scratch: one float per warp.
template <class Ops>
CORE_FN float block_reduce(float v, float* scratch, bool is_max) {
    const int lane = Ops::thread() & 31, warp = Ops::thread() >> 5;
    constexpr int WARPS = GENERIC_THREADS / WARP;
    v = is_max ? warp_max<Ops>(v) : warp_sum<Ops>(v);
    if (lane == 0) scratch[warp] = v;
    Ops::sync();
    v = lane < WARPS ? scratch[lane] : (is_max ? -INFINITY : 0.0f);
    v = is_max ? warp_max<Ops>(v) : warp_sum<Ops>(v);
    Ops::sync();  // scratch is reused by the next reduction
    return v;
}

// One CTA of GENERIC_THREADS per (query head = block x, work item = block y); a work item is batch row rows[i] at
// sequence position positions[i] whose block table starts at tables[table_offsets[i]]. Keys 0..position are
// visited in chunks of GENERIC_THREADS (one key per thread) with an online softmax: running max m, running sum l,
// output rescaled by exp(m - m_new); each thread accumulates output dims tid and tid + GENERIC_THREADS.
template <typename T, class Ops>
CORE_FN void generic_scaled(const float* q, const T* k_pool, const T* v_pool, const int* rows, const int* positions,
                            const int* table_offsets, const int* tables, float* out, int q_cols, int head_dim,
                            int kv_width, int group, int block_size, float scale, float v_scale) {
    constexpr int THREADS = GENERIC_THREADS;
    float* q_s = reinterpret_cast<float*>(Ops::shared());
    float* p_s = q_s + GENERIC_MAX_HEAD_DIM;                      // the chunk's probabilities
    int64_t* key_row = reinterpret_cast<int64_t*>(p_s + THREADS);  // the chunk's pool rows
    float* scratch = reinterpret_cast<float*>(key_row + THREADS);
    const int head = Ops::block_x(), item = Ops::block_y(), tid = Ops::thread();
    const int row = rows[item], position = positions[item];
    const int* table = tables + table_offsets[item];
    const int kv_offset = head / group * head_dim;
    const float* q_row = q + static_cast<int64_t>(row) * q_cols + static_cast<int64_t>(head) * head_dim;
    for (int d = tid; d < head_dim; d += THREADS) q_s[d] = q_row[d];
    Ops::sync();
    const bool vector_keys = (head_dim & 3) == 0;  // key rows start on 4 elements: 16 (FP32), 8 (BF16), 4 (e4m3) bytes
    const int d0 = tid, d1 = tid + THREADS;
    float m = -INFINITY, l = 0.0f, acc0 = 0.0f, acc1 = 0.0f;
    for (int c0 = 0; c0 <= position; c0 += THREADS) {
        const int j = c0 + tid;
        float s = -INFINITY;
        if (j <= position) {
            const int64_t pool = pool_row(table, j, block_size);
            key_row[tid] = pool;
            const T* key = k_pool + pool * kv_width + kv_offset;
            float dot = 0.0f;
            if (vector_keys) {
                for (int d = 0; d < head_dim; d += 4) {
                    float kv[4];
                    Ops::load4(key + d, kv);
                    dot = fmaf(q_s[d], kv[0], dot);
                    dot = fmaf(q_s[d + 1], kv[1], dot);
                    dot = fmaf(q_s[d + 2], kv[2], dot);
                    dot = fmaf(q_s[d + 3], kv[3], dot);
                }
            } else {
                for (int d = 0; d < head_dim; d++) dot = fmaf(q_s[d], key_element<Ops>(key + d), dot);
            }
            s = dot * scale;
        }
        const float m_new = fmaxf(m, block_reduce<Ops>(s, scratch, true));
        const float p = j <= position ? Ops::exp(s - m_new) : 0.0f;
        p_s[tid] = p;
        const float alpha = Ops::exp(m - m_new);  // 0 on the first chunk (m = -inf)
        l = l * alpha + block_reduce<Ops>(p, scratch, false);  // its barriers publish p_s and key_row
        const int keys = imin(THREADS, position + 1 - c0);
        acc0 *= alpha;
        acc1 *= alpha;
        const T* values = v_pool + kv_offset;
        for (int jj = 0; jj < keys; jj++) {
            const T* v_row = values + key_row[jj] * kv_width;
            const float p_j = p_s[jj];
            if (d0 < head_dim) acc0 = fmaf(p_j, key_element<Ops>(v_row + d0), acc0);
            if (d1 < head_dim) acc1 = fmaf(p_j, key_element<Ops>(v_row + d1), acc1);
        }
        m = m_new;
        Ops::sync();  // p_s and key_row are rewritten by the next chunk
    }
    float* o = out + static_cast<int64_t>(row) * q_cols + static_cast<int64_t>(head) * head_dim;
    if (d0 < head_dim) o[d0] = acc0 / l * v_scale;
    if (d1 < head_dim) o[d1] = acc1 / l * v_scale;
}

template <typename T, class Ops>
CORE_FN void generic(const float* q, const T* k_pool, const T* v_pool, const int* rows, const int* positions,
                     const int* table_offsets, const int* tables, float* out, int q_cols, int head_dim, int kv_width,
                     int group, int block_size, float scale) {
    generic_scaled<T, Ops>(q, k_pool, v_pool, rows, positions, table_offsets, tables, out, q_cols, head_dim, kv_width,
                           group, block_size, scale, 1.0f);
}

template <class Ops>
CORE_FN void generic_e4m3(const float* q, const uint8_t* k_pool, const uint8_t* v_pool, const int* rows,
                          const int* positions, const int* table_offsets, const int* tables, float* out, int q_cols,
                          int head_dim, int kv_width, int group, int block_size, float scale, float v_scale) {
    generic_scaled<uint8_t, Ops>(q, k_pool, v_pool, rows, positions, table_offsets, tables, out, q_cols, head_dim,
                                 kv_width, group, block_size, scale, v_scale);
}

// ---- tensor-core kernels (BF16 or e4m3 pools, head_dim 64 or 128): mma.sync.m16n8k16 BF16 x BF16 -> FP32. An
// e4m3 tile is decoded to BF16 (exactly: every e4m3 value is a BF16 value) on its way into shared memory, so the
// stages and everything after them are the BF16 kernels'.
//
// Fragment ownership (PTX ISA, "Matrix Fragments for mma.m16n8k16"), lane = 4 * g + t:
//   A 16x16 (row-major), 4 regs of 2 BF16: r0 = A[g][2t, 2t+1], r1 = A[g+8][2t, 2t+1], r2 = A[g][2t+8, 2t+9],
//     r3 = A[g+8][2t+8, 2t+9]
//   B 16x8 ("col": k pairs in one register), 2 regs: r0 = B[2t, 2t+1][g], r1 = B[2t+8, 2t+9][g]
//   C 16x8 FP32, 4 floats: c0, c1 = C[g][2t, 2t+1], c2, c3 = C[g+8][2t, 2t+1]
// ldmatrix.x4: lanes 8i..8i+7 give the addresses of rows 0..7 of matrix i; register i of lane 4g+t receives
// M_i[g][2t, 2t+1] (.trans: M_i[2t][g], M_i[2t+1][g]).
//
// S = Q K^T: A = Q rows (a warp's 16 query rows), B[k = dim][n = key] = K[key][dim]: K rows as stored are B's
// columns, so plain ldmatrix of 8 keys x 8 dims gives B registers. O += P V: B[k = key][n = dim] = V[key][dim]:
// rows are keys, so ldmatrix.trans. P needs no shared memory: the C fragments of key blocks 2kk and 2kk+1 are
// exactly the A fragment of keys 16kk..16kk+15 (c0c1 -> r0, c2c3 -> r1, next block's c0c1 -> r2, c2c3 -> r3).

template <int D>
struct WarpState {
    float o[D / 8][4];  // O[16 rows][D]: o[j] holds dims 8j..8j+7 as a C fragment
    float m[2];         // running max (log2 units) of rows g and g + 8
    float l[2];         // running sum of this lane's probabilities of rows g and g + 8 (summed over the quad at the end)
};

template <int D>
CORE_FN void init(WarpState<D>& st) {
#pragma unroll
    for (int j = 0; j < D / 8; j++) st.o[j][0] = st.o[j][1] = st.o[j][2] = st.o[j][3] = 0.0f;
    st.m[0] = st.m[1] = -INFINITY;
    st.l[0] = st.l[1] = 0.0f;
}

// The 16 x D query rows at q_s (padded rows) as A fragments, one per 16 dims.
template <int D, class Ops>
CORE_FN void load_query_fragments(uint32_t (&qf)[D / 16][4], const uint16_t* q_s, int lane) {
#pragma unroll
    for (int ks = 0; ks < D / 16; ks++) {
        // matrices 0..3 = (rows 0-7, dims 0-7), (rows 8-15, dims 0-7), (rows 0-7, dims 8-15), (rows 8-15, dims 8-15)
        Ops::ldmatrix_x4(qf[ks], q_s + (lane & 15) * padded(D) + ks * 16 + (lane >> 4) * 8);
    }
}

// One warp's step of the online softmax over KEYS keys at k_s / v_s (padded rows, the warp's slice of a stage):
// key index key0 + i for row i of the slice. Row r of the warp sees keys < limit of its row (limit0 for rows g,
// limit1 for rows g + 8); `mask` (warp-uniform) is false when every key of the slice is below both limits.
template <int D, int KEYS, class Ops>
CORE_FN void warp_tile(WarpState<D>& st, const uint32_t (&qf)[D / 16][4], const uint16_t* k_s, const uint16_t* v_s,
                       int key0, int limit0, int limit1, bool mask, float scale_log2, int lane) {
    static_assert(KEYS % 16 == 0, "keys come in mma k-steps of 16");
    float s[KEYS / 8][4];
#pragma unroll
    for (int nb = 0; nb < KEYS / 8; nb++) s[nb][0] = s[nb][1] = s[nb][2] = s[nb][3] = 0.0f;
#pragma unroll
    for (int ks = 0; ks < D / 16; ks++) {
#pragma unroll
        for (int np = 0; np < KEYS / 16; np++) {
            // matrices = (keys 0-7, dims 0-7), (keys 0-7, dims 8-15), (keys 8-15, dims 0-7), (keys 8-15, dims 8-15)
            // of this 16-key block: B registers r0, r1 of key block 2np, then of key block 2np + 1
            uint32_t b[4];
            Ops::ldmatrix_x4(b, k_s + (np * 16 + (lane & 7) + ((lane >> 4) << 3)) * padded(D) + ks * 16 +
                                    ((lane >> 3) & 1) * 8);
            Ops::mma(s[2 * np], qf[ks], b[0], b[1]);
            Ops::mma(s[2 * np + 1], qf[ks], b[2], b[3]);
        }
    }
    const int t = lane & 3;
#pragma unroll
    for (int h = 0; h < 2; h++) {  // rows g (c0, c1) and g + 8 (c2, c3)
        const int limit = h == 0 ? limit0 : limit1;
        float mx = -INFINITY;
#pragma unroll
        for (int nb = 0; nb < KEYS / 8; nb++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                float x = s[nb][2 * h + e] * scale_log2;
                if (mask && key0 + nb * 8 + 2 * t + e >= limit) x = -INFINITY;
                s[nb][2 * h + e] = x;
                mx = fmaxf(mx, x);
            }
        }
        mx = fmaxf(mx, Ops::shfl_xor(mx, 1));  // the quad holds the row's other keys
        mx = fmaxf(mx, Ops::shfl_xor(mx, 2));
        const float m_new = fmaxf(st.m[h], mx);
        const float base = m_new == -INFINITY ? 0.0f : m_new;  // a row with no visible key yet stays all zero
        const float alpha = Ops::exp2(st.m[h] - base);
        st.m[h] = m_new;
        st.l[h] *= alpha;
#pragma unroll
        for (int j = 0; j < D / 8; j++) {
            st.o[j][2 * h] *= alpha;
            st.o[j][2 * h + 1] *= alpha;
        }
#pragma unroll
        for (int nb = 0; nb < KEYS / 8; nb++) {
            s[nb][2 * h] = Ops::exp2(s[nb][2 * h] - base);
            s[nb][2 * h + 1] = Ops::exp2(s[nb][2 * h + 1] - base);
        }
    }
#pragma unroll
    for (int kk = 0; kk < KEYS / 16; kk++) {
        uint32_t a[4];
        a[0] = Ops::pack_bf16(s[2 * kk][0], s[2 * kk][1]);          // row g, keys 16kk + 2t, +1
        a[1] = Ops::pack_bf16(s[2 * kk][2], s[2 * kk][3]);          // row g + 8
        a[2] = Ops::pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]);  // row g, keys 16kk + 8 + 2t, +1
        a[3] = Ops::pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3]);  // row g + 8
        // the sum takes the probabilities as rounded for the product, so the weights of V sum to one exactly
        st.l[0] += bf16_to_float<Ops>(a[0] & 0xffffu) + bf16_to_float<Ops>(a[0] >> 16) +
                   bf16_to_float<Ops>(a[2] & 0xffffu) + bf16_to_float<Ops>(a[2] >> 16);
        st.l[1] += bf16_to_float<Ops>(a[1] & 0xffffu) + bf16_to_float<Ops>(a[1] >> 16) +
                   bf16_to_float<Ops>(a[3] & 0xffffu) + bf16_to_float<Ops>(a[3] >> 16);
#pragma unroll
        for (int nd = 0; nd < D / 16; nd++) {
            // matrices (.trans) = (keys 0-7, dims 0-7), (keys 8-15, dims 0-7), (keys 0-7, dims 8-15),
            // (keys 8-15, dims 8-15): B registers r0, r1 of dims 16nd..+7, then of dims 16nd+8..+15
            uint32_t b[4];
            Ops::ldmatrix_x4_trans(b, v_s + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * padded(D) + nd * 16 +
                                          (lane >> 4) * 8);
            Ops::mma(st.o[2 * nd], a, b[0], b[1]);
            Ops::mma(st.o[2 * nd + 1], a, b[2], b[3]);
        }
    }
}

// Sums each row's probabilities over the quad that holds it.
template <int D, class Ops>
CORE_FN void finish_sums(WarpState<D>& st) {
#pragma unroll
    for (int h = 0; h < 2; h++) {
        st.l[h] += Ops::shfl_xor(st.l[h], 1);
        st.l[h] += Ops::shfl_xor(st.l[h], 2);
    }
}

// 8 e4m3 (the first in the low byte of raw[0]) as 4 BF16 pairs, lo first: exact, every e4m3 value is a BF16 value.
template <class Ops>
CORE_FN void e4m3x8_to_bf16(const uint32_t (&raw)[2], uint32_t (&out)[4]) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float lo, hi;
        Ops::e4m3x2((raw[i / 2] >> (16 * (i % 2))) & 0xffffu, lo, hi);
        out[i] = Ops::pack_bf16(lo, hi);
    }
}

// ROWS x D FP32 rows (row r at src + r * row_stride) into padded BF16 rows at dst; rows >= valid are zero.
template <int D, int ROWS, int THREADS, class Ops>
CORE_FN void load_queries(uint16_t* dst, const float* src, int64_t row_stride, int valid, int tid) {
    constexpr int CHUNKS = D / 8;  // 8 values (16 bytes of BF16) per chunk
    static_assert(ROWS * CHUNKS % THREADS == 0, "whole chunks per thread");
#pragma unroll
    for (int i = 0; i < ROWS * CHUNKS / THREADS; i++) {
        const int c = i * THREADS + tid, r = c / CHUNKS, col = (c % CHUNKS) * 8;
        uint32_t packed[4] = {0u, 0u, 0u, 0u};
        if (r < valid) {
            float a[4], b[4];
            Ops::load4(src + r * row_stride + col, a);
            Ops::load4(src + r * row_stride + col + 4, b);
            packed[0] = Ops::pack_bf16(a[0], a[1]);
            packed[1] = Ops::pack_bf16(a[2], a[3]);
            packed[2] = Ops::pack_bf16(b[0], b[1]);
            packed[3] = Ops::pack_bf16(b[2], b[3]);
        }
        Ops::store_shared16(dst + r * padded(D) + col, packed);
    }
}

// Starts the copy of keys [first, first + KEY_TILE) of one kv head (kv_offset = its first column) into a stage:
// 16-byte cp.async chunks through the block table; keys >= end are zero-filled (and read nothing).
template <int D, int THREADS, class Ops>
CORE_FN void load_kv_tile(uint16_t* k_s, uint16_t* v_s, const uint16_t* k_pool, const uint16_t* v_pool,
                          const int* table, int block_size, int kv_width, int kv_offset, int first, int end,
                          int tid) {
    constexpr int CHUNKS = D / 8;
    static_assert(KEY_TILE * CHUNKS % THREADS == 0, "whole chunks per thread");
#pragma unroll
    for (int i = 0; i < KEY_TILE * CHUNKS / THREADS; i++) {
        const int c = i * THREADS + tid, key = c / CHUNKS, col = (c % CHUNKS) * 8;
        const int j = first + key;
        const bool valid = j < end;
        const int64_t src = (valid ? pool_row(table, j, block_size) : 0) * kv_width + kv_offset + col;
        Ops::cp_async16(k_s + key * padded(D) + col, k_pool + src, valid);
        Ops::cp_async16(v_s + key * padded(D) + col, v_pool + src, valid);
    }
}

// One pool's part of that tile from an e4m3 pool: 8-byte loads (8 dims of a key) into registers, BATCH loads issued
// before the first is used, then decoded to BF16 and stored as the 16-byte chunks cp.async would have written.
template <int D, int THREADS, class Ops>
CORE_FN void load_e4m3_tile(uint16_t* dst, const uint8_t* pool, const int* table, int block_size, int kv_width,
                            int kv_offset, int first, int end, int tid) {
    constexpr int CHUNKS = D / 8, PER_THREAD = KEY_TILE * CHUNKS / THREADS;
    constexpr int BATCH = PER_THREAD < 4 ? PER_THREAD : 4;  // 8 registers in flight: the d128 decode has no more
    static_assert(KEY_TILE * CHUNKS % THREADS == 0 && PER_THREAD % BATCH == 0, "whole chunks per thread");
#pragma unroll
    for (int i0 = 0; i0 < PER_THREAD; i0 += BATCH) {
        uint32_t raw[BATCH][2];
#pragma unroll
        for (int b = 0; b < BATCH; b++) {
            const int c = (i0 + b) * THREADS + tid, key = c / CHUNKS, col = (c % CHUNKS) * 8;
            const int j = first + key;
            raw[b][0] = raw[b][1] = 0u;  // e4m3 zeros: keys >= end
            if (j < end) Ops::load8(pool + pool_row(table, j, block_size) * kv_width + kv_offset + col, raw[b]);
        }
#pragma unroll
        for (int b = 0; b < BATCH; b++) {
            const int c = (i0 + b) * THREADS + tid, key = c / CHUNKS, col = (c % CHUNKS) * 8;
            uint32_t bf16[4];
            e4m3x8_to_bf16<Ops>(raw[b], bf16);
            Ops::store_shared16(dst + key * padded(D) + col, bf16);
        }
    }
}

// The same tile from e4m3 pools, K then V. The stores are plain: the tile is complete at the barrier that follows
// (the cp.async waits find no copies pending).
template <int D, int THREADS, class Ops>
CORE_FN void load_kv_tile(uint16_t* k_s, uint16_t* v_s, const uint8_t* k_pool, const uint8_t* v_pool,
                          const int* table, int block_size, int kv_width, int kv_offset, int first, int end,
                          int tid) {
    load_e4m3_tile<D, THREADS, Ops>(k_s, k_pool, table, block_size, kv_width, kv_offset, first, end, tid);
    load_e4m3_tile<D, THREADS, Ops>(v_s, v_pool, table, block_size, kv_width, kv_offset, first, end, tid);
}

// ---- prefill: flash-attention-2 style. One CTA of WARPS warps per (query head = block x, Q tile = block y): CTAs
// start in x-major order, so every head of the first (longest) tile goes first, and neighbours share K/V tiles in
// L2. The tile's record is tiles[4 * y ..] = {first batch row, position of that row, rows (<= 16 * WARPS), offset of
// the sequence's block table in tables}. Warp w owns tile rows 16w..16w+15 (row r at position first_position + r).
// Keys 0..first_position + rows - 1 stream through two shared-memory stages of KEY_TILE keys (cp.async: the next
// stage loads while this one is used); the causal mask is applied only on tiles that reach past a warp's first row.
// Tile rows past `rows` compute on zero queries and are not stored.
template <int D, int WARPS, typename T, class Ops>
CORE_FN void prefill_scaled(const float* q, const T* k_pool, const T* v_pool, const int* tiles, const int* tables,
                            float* out, int q_cols, int kv_width, int group, int block_size, float scale,
                            float v_scale) {
    constexpr int THREADS = WARPS * WARP, ROWS = 16 * WARPS, STAGE = KEY_TILE * padded(D);
    uint16_t* q_s = reinterpret_cast<uint16_t*>(Ops::shared());
    uint16_t* k_s = q_s + ROWS * padded(D);  // stages 0 and 1
    uint16_t* v_s = k_s + 2 * STAGE;
    const int* tile = tiles + 4 * Ops::block_y();
    const int first_row = tile[0], first_position = tile[1], rows = tile[2];
    const int* table = tables + tile[3];
    const int head = Ops::block_x(), kv_offset = head / group * D;
    const int tid = Ops::thread(), lane = tid & 31, warp = tid >> 5;
    const int end = first_position + rows;  // keys [0, end)
    const int key_tiles = (end + KEY_TILE - 1) / KEY_TILE;
    const float scale_log2 = scale * LOG2E;

    load_queries<D, ROWS, THREADS, Ops>(q_s, q + static_cast<int64_t>(first_row) * q_cols + head * D, q_cols, rows,
                                        tid);
    load_kv_tile<D, THREADS, Ops>(k_s, v_s, k_pool, v_pool, table, block_size, kv_width, kv_offset, 0, end, tid);
    Ops::cp_async_commit();
    Ops::sync();  // the query tile is in shared memory
    uint32_t qf[D / 16][4];
    load_query_fragments<D, Ops>(qf, q_s + warp * 16 * padded(D), lane);
    WarpState<D> st;
    init(st);
    const int warp_position = first_position + warp * 16;  // position of the warp's first row
    const int limit0 = warp_position + (lane >> 2) + 1;   // row g sees keys <= its position
    const int limit1 = limit0 + 8;                         // row g + 8
    for (int kt = 0; kt < key_tiles; kt++) {
        const int stage = kt & 1;
        if (kt + 1 < key_tiles) {  // the other stage was last read before the barrier that ended tile kt - 1
            load_kv_tile<D, THREADS, Ops>(k_s + (stage ^ 1) * STAGE, v_s + (stage ^ 1) * STAGE, k_pool, v_pool, table,
                                          block_size, kv_width, kv_offset, (kt + 1) * KEY_TILE, end, tid);
            Ops::cp_async_commit();
            Ops::template cp_async_wait<1>();  // this tile's group is complete, the next one may be in flight
        } else {
            Ops::template cp_async_wait<0>();
        }
        Ops::sync();  // every thread's copies of this tile are visible
        const int key0 = kt * KEY_TILE;
        warp_tile<D, KEY_TILE, Ops>(st, qf, k_s + stage * STAGE, v_s + stage * STAGE, key0, limit0, limit1,
                                    key0 + KEY_TILE - 1 > warp_position, scale_log2, lane);
        Ops::sync();  // done with this stage before it is refilled
    }
    finish_sums<D, Ops>(st);
    const int t = lane & 3;
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int r = warp * 16 + (lane >> 2) + 8 * h;
        if (r < rows) {
            float* o = out + static_cast<int64_t>(first_row + r) * q_cols + head * D + 2 * t;
            const float inv = v_scale / st.l[h];
#pragma unroll
            for (int j = 0; j < D / 8; j++) Ops::store2(o + 8 * j, st.o[j][2 * h] * inv, st.o[j][2 * h + 1] * inv);
        }
    }
}

template <int D, int WARPS, class Ops>
CORE_FN void prefill(const float* q, const uint16_t* k_pool, const uint16_t* v_pool, const int* tiles,
                     const int* tables, float* out, int q_cols, int kv_width, int group, int block_size,
                     float scale) {
    prefill_scaled<D, WARPS, uint16_t, Ops>(q, k_pool, v_pool, tiles, tables, out, q_cols, kv_width, group,
                                            block_size, scale, 1.0f);
}

template <int D, int WARPS, class Ops>
CORE_FN void prefill_e4m3(const float* q, const uint8_t* k_pool, const uint8_t* v_pool, const int* tiles,
                          const int* tables, float* out, int q_cols, int kv_width, int group, int block_size,
                          float scale, float v_scale) {
    prefill_scaled<D, WARPS, uint8_t, Ops>(q, k_pool, v_pool, tiles, tables, out, q_cols, kv_width, group,
                                           block_size, scale, v_scale);
}

// ---- decode: paged flash-decoding. One CTA of DECODE_WARPS warps per (unit = block x, kv head = block y, group
// slice = block z). A unit is units[5 * x ..] = {batch row, block table offset, first key, end key, partial slot}:
// keys [first, end) of the row's sequence (a partition of its context, or all of it). The CTA's mma rows are the
// query heads kv_head * group + 16 z + r, r < min(16, group - 16 z), of that row, so each K/V row is read once
// for the whole GQA group. Stages of KEY_TILE keys are shared: warp w takes keys 16w..16w+15 of each, and the four
// warps' (max, sum, output) are merged through shared memory at the end. Slot < 0: the unit is the row's whole
// context, the normalised output goes to out; otherwise the unnormalised output, max (log2 units) and sum go to
// partial_o[slot, head, :] and partial_ml[slot, head, 0..1] for attention_reduce.
template <int D, typename T, class Ops>
CORE_FN void decode_scaled(const float* q, const T* k_pool, const T* v_pool, const int* units, const int* tables,
                           float* out, float* partial_o, float* partial_ml, int q_cols, int kv_width, int group,
                           int block_size, float scale, float v_scale) {
    constexpr int THREADS = DECODE_THREADS, STAGE = KEY_TILE * padded(D);
    static_assert(DECODE_WARPS * 16 == KEY_TILE, "each warp takes 16 keys of a stage");
    constexpr int MERGE_STRIDE = D + 4;  // floats per merged row: lanes of a fragment store hit distinct banks
    static_assert((DECODE_WARPS * GROUP_ROWS * MERGE_STRIDE + 2 * DECODE_WARPS * GROUP_ROWS) * 4 <= 4 * STAGE * 2,
                  "the merge fits in the stages");
    uint16_t* q_s = reinterpret_cast<uint16_t*>(Ops::shared());
    uint16_t* k_s = q_s + GROUP_ROWS * padded(D);
    uint16_t* v_s = k_s + 2 * STAGE;
    const int* unit = units + 5 * Ops::block_x();
    const int row = unit[0], first = unit[2], end = unit[3], slot = unit[4];
    const int* table = tables + unit[1];
    const int kv_head = Ops::block_y(), first_head = kv_head * group + GROUP_ROWS * Ops::block_z();
    const int heads_here = imin(GROUP_ROWS, group - GROUP_ROWS * Ops::block_z());
    const int tid = Ops::thread(), lane = tid & 31, warp = tid >> 5;
    const int key_tiles = (end - first + KEY_TILE - 1) / KEY_TILE;
    const float scale_log2 = scale * LOG2E;

    load_queries<D, GROUP_ROWS, THREADS, Ops>(q_s, q + static_cast<int64_t>(row) * q_cols + first_head * D, D,
                                              heads_here, tid);
    load_kv_tile<D, THREADS, Ops>(k_s, v_s, k_pool, v_pool, table, block_size, kv_width, kv_head * D, first, end, tid);
    Ops::cp_async_commit();
    Ops::sync();
    uint32_t qf[D / 16][4];
    load_query_fragments<D, Ops>(qf, q_s, lane);
    WarpState<D> st;
    init(st);
    for (int kt = 0; kt < key_tiles; kt++) {
        const int stage = kt & 1;
        if (kt + 1 < key_tiles) {
            load_kv_tile<D, THREADS, Ops>(k_s + (stage ^ 1) * STAGE, v_s + (stage ^ 1) * STAGE, k_pool, v_pool, table,
                                          block_size, kv_width, kv_head * D, first + (kt + 1) * KEY_TILE, end, tid);
            Ops::cp_async_commit();
            Ops::template cp_async_wait<1>();
        } else {
            Ops::template cp_async_wait<0>();
        }
        Ops::sync();
        const int key0 = first + kt * KEY_TILE + warp * 16;  // this warp's 16 keys
        warp_tile<D, 16, Ops>(st, qf, k_s + stage * STAGE + warp * 16 * padded(D),
                              v_s + stage * STAGE + warp * 16 * padded(D), key0, end, end, key0 + 15 >= end,
                              scale_log2, lane);
        Ops::sync();
    }
    finish_sums<D, Ops>(st);
    // merge the warps: every stage has been consumed (the loop ended on a barrier), so they hold the merge buffers
    float* merge_o = reinterpret_cast<float*>(k_s);                     // [warp][16 rows][MERGE_STRIDE]
    float* merge_m = merge_o + DECODE_WARPS * GROUP_ROWS * MERGE_STRIDE;  // [warp][16 rows]
    float* merge_l = merge_m + DECODE_WARPS * GROUP_ROWS;
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int r = warp * GROUP_ROWS + g + 8 * h;
#pragma unroll
        for (int j = 0; j < D / 8; j++) {
            merge_o[r * MERGE_STRIDE + 8 * j + 2 * t] = st.o[j][2 * h];
            merge_o[r * MERGE_STRIDE + 8 * j + 2 * t + 1] = st.o[j][2 * h + 1];
        }
        if (t == 0) {
            merge_m[r] = st.m[h];
            merge_l[r] = st.l[h];
        }
    }
    Ops::sync();
    const int heads = q_cols / D;
    for (int i = tid; i < heads_here * D; i += THREADS) {
        const int r = i / D, d = i % D;
        float m = -INFINITY;
        for (int w = 0; w < DECODE_WARPS; w++) m = fmaxf(m, merge_m[w * GROUP_ROWS + r]);
        // warp 0 saw key `first` (< end), so m is finite; a warp that saw no key has m = -inf, weight 0
        float l = 0.0f, o = 0.0f;
        for (int w = 0; w < DECODE_WARPS; w++) {
            const float weight = Ops::exp2(merge_m[w * GROUP_ROWS + r] - m);
            l += merge_l[w * GROUP_ROWS + r] * weight;
            o += merge_o[(w * GROUP_ROWS + r) * MERGE_STRIDE + d] * weight;
        }
        o *= v_scale;  // the partials too: the reduce is linear in o
        const int head = first_head + r;
        if (slot < 0) {
            out[static_cast<int64_t>(row) * q_cols + head * D + d] = o / l;
        } else {
            const int64_t at = static_cast<int64_t>(slot) * heads + head;
            partial_o[at * D + d] = o;
            if (d == 0) {
                partial_ml[2 * at] = m;
                partial_ml[2 * at + 1] = l;
            }
        }
    }
}

template <int D, class Ops>
CORE_FN void decode(const float* q, const uint16_t* k_pool, const uint16_t* v_pool, const int* units,
                    const int* tables, float* out, float* partial_o, float* partial_ml, int q_cols, int kv_width,
                    int group, int block_size, float scale) {
    decode_scaled<D, uint16_t, Ops>(q, k_pool, v_pool, units, tables, out, partial_o, partial_ml, q_cols, kv_width,
                                    group, block_size, scale, 1.0f);
}

template <int D, class Ops>
CORE_FN void decode_e4m3(const float* q, const uint8_t* k_pool, const uint8_t* v_pool, const int* units,
                         const int* tables, float* out, float* partial_o, float* partial_ml, int q_cols, int kv_width,
                         int group, int block_size, float scale, float v_scale) {
    decode_scaled<D, uint8_t, Ops>(q, k_pool, v_pool, units, tables, out, partial_o, partial_ml, q_cols, kv_width,
                                   group, block_size, scale, v_scale);
}

// ---- reduce: one CTA of REDUCE_THREADS per (item = block x, query head = block y), one output dim per thread
// (head_dim <= REDUCE_THREADS: the tensor-core kernels' 64 or 128). items[3 * x ..] = {batch row, first partial slot,
// partitions}: out[row, head] = sum_i o_i 2^(m_i - M) / sum_i l_i 2^(m_i - M), M = max_i m_i.
template <class Ops>
CORE_FN void reduce(const int* items, const float* partial_o, const float* partial_ml, float* out, int q_cols,
                    int head_dim) {
    const int* item = items + 3 * Ops::block_x();
    const int row = item[0], first = item[1], parts = item[2];
    const int head = Ops::block_y(), heads = q_cols / head_dim, d = Ops::thread();
    const int64_t at = static_cast<int64_t>(first) * heads + head;  // slot first + i is at + i * heads
    const float* ml = partial_ml + 2 * at;
    const float* o = partial_o + at * head_dim + d;
    float m = -INFINITY;
    for (int i = 0; i < parts; i++) m = fmaxf(m, ml[2 * static_cast<int64_t>(heads) * i]);
    float l = 0.0f, acc = 0.0f;
    for (int i = 0; i < parts; i++) {
        const float weight = Ops::exp2(ml[2 * static_cast<int64_t>(heads) * i] - m);
        l += ml[2 * static_cast<int64_t>(heads) * i + 1] * weight;
        if (d < head_dim) acc += o[static_cast<int64_t>(heads) * head_dim * i] * weight;
    }
    if (d < head_dim) out[static_cast<int64_t>(row) * q_cols + head * head_dim + d] = acc / l;
}

}  // namespace tramontane::attention
