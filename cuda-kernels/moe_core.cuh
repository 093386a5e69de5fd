// The MoE kernels' bodies (router top-k + softmax, the permutation by expert, gather, the grouped expert linears,
// weighted un-permute), written once against an `Ops` type that supplies the hardware: the thread's coordinates,
// dynamic shared memory, __syncthreads, warp shuffle and ballot, 16-byte loads, exp in double, fma and the e4m3
// conversions. moe.cu instantiates them with MoeDeviceOps as extern "C" kernels; test/attention_emulator.cpp
// instantiates them with its emulated warps and runs the same code on the host (MoeEmulationTest).
//
// Routed rows: slot = t * top_k + j is token t's j-th choice (largest logit first). `order[i]` is the slot at sorted
// position i, sorted by expert then token (a stable counting sort: deterministic); `position` is its inverse; expert
// e's sorted rows are [offsets[e], offsets[e + 1]). The grouped GEMMs walk `tiles`: (expert, first sorted row) pairs
// of at most tile_rows rows of one expert each, expert -1 past the last used tile, so the launch is sized on the host
// for the worst case (ceil(rows / tile_rows) + min(experts, rows) tiles) without reading the counts back.
#pragma once
#include <cstdint>
#ifndef __CUDACC__
#include <cmath>
#endif

#include "core_prelude.cuh"

namespace tramontane::moe {

constexpr int WARP = 32;
constexpr int MAX_EXPERTS = 256, MAX_TOP_K = 8;       // MoeKernels.java checks both
constexpr int ROUTE_WARPS = 4, ROUTE_THREADS = ROUTE_WARPS * WARP;  // a warp per token
constexpr int PERMUTE_WARPS = 8, PERMUTE_THREADS = PERMUTE_WARPS * WARP;  // one CTA; warps take experts in turn
constexpr int ROW_THREADS = 256;                      // gather / combine: a CTA per row, threads over columns

// permute's shared memory: per-expert counts, first sorted rows and first tiles (+1 each), and the tile total
CORE_CONSTEXPR int permute_smem_bytes() { return (3 * (MAX_EXPERTS + 1) + 1) * 4; }

// Grouped linears. gemv (decode): a warp per output column, tiles of GEMV_TILE_ROWS routed rows, the weight row
// streamed once per tile. gemm (prefill): 64x64 output tiles over k-major shared-memory stages of 32, 4x4 per thread.
constexpr int GEMV_WARPS = 4, GEMV_THREADS = GEMV_WARPS * WARP, GEMV_TILE_ROWS = 4;
constexpr int TILE_M = 64, TILE_N = 64, TILE_K = 32, GEMM_THREADS = 256;
// x and w stages; rows padded by 16 bytes
CORE_CONSTEXPR int gemm_smem_bytes() { return 2 * TILE_K * (TILE_M + 4) * 4; }

CORE_FN int popc(uint32_t bits) {
#ifdef __CUDACC__
    return __popc(bits);
#else
    return __builtin_popcount(bits);
#endif
}

// ---- route: per token, the top_k largest of `experts` logits (ties to the lower index), weights = softmax over the
// selection in double (as CpuExpertRoutes does: exp(l - max) / sum, rounded to float).
// grid = ceil(tokens / ROUTE_WARPS), block = ROUTE_THREADS.

template <class Ops>
CORE_FN void route(const float* logits, int tokens, int experts, int top_k, int* expert_of, float* weight_of) {
    constexpr int PER_LANE = MAX_EXPERTS / WARP;
    const int lane = Ops::thread() & (WARP - 1);
    const int t = Ops::block_x() * ROUTE_WARPS + Ops::thread() / WARP;
    if (t >= tokens) return;  // the whole warp
    const float* row = logits + static_cast<int64_t>(t) * experts;
    float value[PER_LANE];
    bool open[PER_LANE];  // a real expert, not chosen yet
#pragma unroll
    for (int j = 0; j < PER_LANE; j++) {
        const int e = lane + WARP * j;
        open[j] = e < experts;
        value[j] = open[j] ? row[e] : 0.0f;
    }
    int chosen[MAX_TOP_K];
    float chosen_value[MAX_TOP_K];
#pragma unroll
    for (int k = 0; k < MAX_TOP_K; k++) {
        if (k >= top_k) break;
        int best = -1;  // this lane's best open expert: experts ascend with j, so ties keep the lower index
        float best_value = 0.0f;
#pragma unroll
        for (int j = 0; j < PER_LANE; j++) {
            if (open[j] && (best < 0 || value[j] > best_value)) {
                best = lane + WARP * j;
                best_value = value[j];
            }
        }
        for (int mask = WARP / 2; mask > 0; mask >>= 1) {  // butterfly argmax: every lane ends with the winner
            const float other_value = Ops::shfl_xor(best_value, mask);
            const int other = static_cast<int>(Ops::shfl_xor(static_cast<float>(best), mask));
            if (other >= 0 && (best < 0 || other_value > best_value || (other_value == best_value && other < best))) {
                best = other;
                best_value = other_value;
            }
        }
        chosen[k] = best;
        chosen_value[k] = best_value;
#pragma unroll
        for (int j = 0; j < PER_LANE; j++) {
            if (lane + WARP * j == best) open[j] = false;
        }
    }
    if (lane != 0) return;
    const double max = chosen_value[0];
    double sum = 0;
#pragma unroll
    for (int k = 0; k < MAX_TOP_K; k++) {
        if (k < top_k) sum += Ops::exp(static_cast<double>(chosen_value[k]) - max);
    }
#pragma unroll
    for (int k = 0; k < MAX_TOP_K; k++) {
        if (k >= top_k) break;
        expert_of[t * top_k + k] = chosen[k];
        weight_of[t * top_k + k] = static_cast<float>(Ops::exp(static_cast<double>(chosen_value[k]) - max) / sum);
    }
}

// ---- permute: the stable counting sort of the rows' experts, the offsets and the tile map. One CTA of
// PERMUTE_THREADS; warp w takes experts w, w + PERMUTE_WARPS, ... and scans the rows 32 at a time in slot order,
// placing each hit by a ballot, so rows of one expert keep ascending slots (ascending tokens).

template <class Ops>
CORE_FN void permute(const int* expert_of, int rows, int experts, int tile_rows, int max_tiles, int* order,
                    int* position, int* offsets, int* tiles) {
    int* count = reinterpret_cast<int*>(Ops::shared());
    int* first_row = count + MAX_EXPERTS + 1;
    int* first_tile = first_row + MAX_EXPERTS + 1;
    int* used_tiles = first_tile + MAX_EXPERTS + 1;
    const int lane = Ops::thread() & (WARP - 1), warp = Ops::thread() / WARP;
    for (int e = warp; e < experts; e += PERMUTE_WARPS) {
        int hits = 0;
        for (int base = 0; base < rows; base += WARP) {
            const int i = base + lane;
            hits += popc(Ops::ballot(i < rows && expert_of[i] == e));
        }
        if (lane == 0) count[e] = hits;
    }
    Ops::sync();
    if (Ops::thread() == 0) {
        int row = 0, tile = 0;
        for (int e = 0; e < experts; e++) {
            first_row[e] = row;
            first_tile[e] = tile;
            offsets[e] = row;
            row += count[e];
            tile += (count[e] + tile_rows - 1) / tile_rows;
        }
        offsets[experts] = row;
        *used_tiles = tile;
    }
    Ops::sync();
    const uint32_t below = (1u << lane) - 1u;  // lanes before this one
    for (int e = warp; e < experts; e += PERMUTE_WARPS) {
        int next = first_row[e];
        for (int base = 0; base < rows; base += WARP) {
            const int i = base + lane;
            const bool hit = i < rows && expert_of[i] == e;
            const uint32_t hits = Ops::ballot(hit);
            if (hit) {
                const int p = next + popc(hits & below);
                order[p] = i;
                position[i] = p;
            }
            next += popc(hits);
        }
        const int expert_tiles = (count[e] + tile_rows - 1) / tile_rows;
        for (int j = lane; j < expert_tiles; j += WARP) {
            tiles[2 * (first_tile[e] + j)] = e;
            tiles[2 * (first_tile[e] + j) + 1] = first_row[e] + j * tile_rows;
        }
    }
    for (int tile = *used_tiles + Ops::thread(); tile < max_tiles; tile += PERMUTE_THREADS) {
        tiles[2 * tile] = -1;
        tiles[2 * tile + 1] = 0;
    }
}

// ---- gather: x_sorted[i, :] = x[order[i] / top_k, :]. grid = rows, block = ROW_THREADS.

template <class Ops>
CORE_FN void gather(const float* x, const int* order, int top_k, int cols, float* x_sorted) {
    const int i = Ops::block_x();
    const float* src = x + static_cast<int64_t>(order[i] / top_k) * cols;
    float* dst = x_sorted + static_cast<int64_t>(i) * cols;
    for (int c = Ops::thread(); c < cols; c += ROW_THREADS) dst[c] = src[c];
}

// ---- grouped linears: y[i, :] = out_scale[e] * x'[i, :] w_e^T for the sorted rows i of expert e, where x' is x or,
// with QUANTIZE (static w8a8), e4m3(x / activation_scale[e]). Weights are stored as linear.cu reads them: T is float,
// uint16_t (BF16 bits) or uint8_t (e4m3 bits), rows padded with zeros to `stride` elements (16 bytes), one stride for
// every expert; weights[e] is expert e's matrix [n, stride].

// The tile this block serves (grid.y): its expert (-1: an unused tile), first sorted row and row count.
struct Tile {
    int expert, first, rows;
};

template <class Ops>
CORE_FN Tile tile_of(const int* tiles, const int* offsets, int tile_rows) {
    const int expert = tiles[2 * Ops::block_y()];
    if (expert < 0) return {-1, 0, 0};
    const int first = tiles[2 * Ops::block_y() + 1];
    const int end = offsets[expert + 1];
    return {expert, first, end - first < tile_rows ? end - first : tile_rows};
}

// 16 bytes of weights decoded to FP32: 4 floats, 8 BF16 (the high half of an FP32) or 16 e4m3.
template <class Ops>
CORE_FN void decode(const uint32_t (&raw)[4], float (&out)[4]) {
#pragma unroll
    for (int i = 0; i < 4; i++) out[i] = Ops::as_float(raw[i]);
}
template <class Ops>
CORE_FN void decode(const uint32_t (&raw)[4], float (&out)[8]) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        out[2 * i] = Ops::as_float(raw[i] << 16);
        out[2 * i + 1] = Ops::as_float(raw[i] & 0xffff0000u);
    }
}
template <class Ops>
CORE_FN void decode(const uint32_t (&raw)[4], float (&out)[16]) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        Ops::e4m3x2(raw[i] & 0xffffu, out[4 * i], out[4 * i + 1]);
        Ops::e4m3x2(raw[i] >> 16, out[4 * i + 2], out[4 * i + 3]);
    }
}

template <class Ops>
CORE_FN float element(const float* p) { return *p; }
template <class Ops>
CORE_FN float element(const uint16_t* p) { return Ops::as_float(static_cast<uint32_t>(*p) << 16); }
template <class Ops>
CORE_FN float element(const uint8_t* p) { return Ops::e4m3(*p); }

template <bool QUANTIZE, class Ops>
CORE_FN float input(float x, float activation_scale) {
    if constexpr (QUANTIZE) return Ops::quantize_e4m3(x, activation_scale);
    return x;
}

template <class Ops>
CORE_FN float warp_sum(float v) {
#pragma unroll
    for (int mask = WARP / 2; mask > 0; mask >>= 1) v += Ops::shfl_xor(v, mask);
    return v;
}

// grid = (ceil(n / GEMV_WARPS), max tiles of GEMV_TILE_ROWS), block = GEMV_THREADS.
template <typename T, bool QUANTIZE, class Ops>
CORE_FN void grouped_gemv(const float* x, const T* const* weights, int64_t stride, const float* activation_scale,
                         const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    constexpr int V = 16 / sizeof(T);
    const Tile tile = tile_of<Ops>(tiles, offsets, GEMV_TILE_ROWS);
    const int lane = Ops::thread() & (WARP - 1);
    const int col = Ops::block_x() * GEMV_WARPS + Ops::thread() / WARP;
    if (tile.expert < 0 || col >= n) return;  // whole warps: warp_sum below needs every lane
    const float a_scale = QUANTIZE ? activation_scale[tile.expert] : 1.0f;
    const T* w_row = weights[tile.expert] + col * stride;
    const float* xs = x + static_cast<int64_t>(tile.first) * k;
    const int chunks = (k + V - 1) / V;
    const bool x_aligned = (k & 3) == 0;  // rows of x start on 16 bytes: 4-float loads
    float acc[GEMV_TILE_ROWS] = {};
#pragma unroll 2
    for (int c = lane; c < chunks; c += WARP) {
        uint32_t raw[4];
        Ops::load16(w_row + c * V, raw);
        float wv[V];
        decode<Ops>(raw, wv);
        const int k0 = c * V;
        if (x_aligned && k0 + V <= k) {
#pragma unroll
            for (int t = 0; t < GEMV_TILE_ROWS; t++) {
                if (t >= tile.rows) break;
#pragma unroll
                for (int q = 0; q < V / 4; q++) {
                    float a[4];
                    Ops::load4(xs + static_cast<int64_t>(t) * k + k0 + 4 * q, a);
#pragma unroll
                    for (int i = 0; i < 4; i++) acc[t] = Ops::fma(wv[4 * q + i], input<QUANTIZE, Ops>(a[i], a_scale), acc[t]);
                }
            }
        } else {
#pragma unroll
            for (int t = 0; t < GEMV_TILE_ROWS; t++) {
                if (t >= tile.rows) break;
                const float* xt = xs + static_cast<int64_t>(t) * k;
#pragma unroll
                for (int i = 0; i < V; i++) {
                    if (k0 + i < k) acc[t] = Ops::fma(wv[i], input<QUANTIZE, Ops>(xt[k0 + i], a_scale), acc[t]);
                }
            }
        }
    }
    const float scale = out_scale[tile.expert];
#pragma unroll
    for (int t = 0; t < GEMV_TILE_ROWS; t++) {
        const float sum = warp_sum<Ops>(acc[t]);
        if (lane == 0 && t < tile.rows) y[static_cast<int64_t>(tile.first + t) * n + col] = sum * scale;
    }
}

// grid = (ceil(n / TILE_N), max tiles of TILE_M), block = GEMM_THREADS, gemm_smem_bytes() of dynamic shared memory.
template <typename T, bool QUANTIZE, class Ops>
CORE_FN void grouped_gemm(const float* x, const T* const* weights, int64_t stride, const float* activation_scale,
                         const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    constexpr int PITCH = TILE_M + 4;  // k-major stages: a thread's 4 consecutive rows (or columns) are one float4
    float* xs = reinterpret_cast<float*>(Ops::shared());
    float* ws = xs + TILE_K * PITCH;
    const Tile tile = tile_of<Ops>(tiles, offsets, TILE_M);
    if (tile.expert < 0) return;  // the whole block
    const T* w = weights[tile.expert];
    const float a_scale = QUANTIZE ? activation_scale[tile.expert] : 1.0f;
    const int tid = Ops::thread(), tx = tid % 16, ty = tid / 16;
    const int n0 = Ops::block_x() * TILE_N;
    const int kk = tid % TILE_K, r0 = tid / TILE_K;  // loads: a warp reads 32 consecutive k of one row
    float acc[4][4] = {};
    for (int k0 = 0; k0 < k; k0 += TILE_K) {
        const int kc = k0 + kk;
#pragma unroll
        for (int i = 0; i < TILE_M / (GEMM_THREADS / TILE_K); i++) {
            const int r = r0 + i * (GEMM_THREADS / TILE_K), gn = n0 + r;
            xs[kk * PITCH + r] = r < tile.rows && kc < k
                                     ? input<QUANTIZE, Ops>(x[static_cast<int64_t>(tile.first + r) * k + kc], a_scale)
                                     : 0.0f;
            ws[kk * PITCH + r] = gn < n && kc < k ? element<Ops>(w + gn * stride + kc) : 0.0f;
        }
        Ops::sync();
#pragma unroll 8
        for (int q = 0; q < TILE_K; q++) {
            float a[4], b[4];
            Ops::load4_shared(xs + q * PITCH + ty * 4, a);
            Ops::load4_shared(ws + q * PITCH + tx * 4, b);
#pragma unroll
            for (int i = 0; i < 4; i++) {
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = Ops::fma(a[i], b[j], acc[i][j]);
            }
        }
        Ops::sync();
    }
    const float scale = out_scale[tile.expert];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int r = ty * 4 + i;
        if (r >= tile.rows) break;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int gn = n0 + tx * 4 + j;
            if (gn < n) y[static_cast<int64_t>(tile.first + r) * n + gn] = acc[i][j] * scale;
        }
    }
}

// ---- combine: out[t, :] = sum of weight * y_sorted[row, :] over token t's top_k rows in ascending sorted position
// (ascending expert, the CPU's order), from 0, one fma per term. grid = tokens, block = ROW_THREADS.

template <class Ops>
CORE_FN void combine(const float* y_sorted, const int* position, const float* weight_of, int top_k, int cols,
                    float* out) {
    const int t = Ops::block_x();
    int row[MAX_TOP_K];
    float weight[MAX_TOP_K];
    int previous = -1;
#pragma unroll
    for (int j = 0; j < MAX_TOP_K; j++) {  // the j-th smallest position; unrolled so row and weight stay in registers
        int best = 0x7fffffff;
        float best_weight = 0.0f;
#pragma unroll
        for (int s = 0; s < MAX_TOP_K; s++) {
            if (s >= top_k) break;
            const int p = position[t * top_k + s];
            if (p > previous && p < best) {
                best = p;
                best_weight = weight_of[t * top_k + s];
            }
        }
        row[j] = best;
        weight[j] = best_weight;
        previous = best;
    }
    for (int c = Ops::thread(); c < cols; c += ROW_THREADS) {
        float sum = 0.0f;
#pragma unroll
        for (int j = 0; j < MAX_TOP_K; j++) {
            if (j >= top_k) break;
            sum = Ops::fma(y_sorted[static_cast<int64_t>(row[j]) * cols + c], weight[j], sum);
        }
        out[static_cast<int64_t>(t) * cols + c] = sum;
    }
}

}  // namespace tramontane::moe
