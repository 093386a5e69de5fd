// The MoE routing kernels' bodies (router top-k + softmax, the permutation by expert, gather, weighted un-permute),
// written once against an `Ops` type that supplies the hardware: the thread's coordinates, dynamic shared memory,
// __syncthreads, warp shuffle and ballot, exp in double. moe.cu instantiates them with MoeDeviceOps as extern "C"
// kernels; test/attention_emulator.cpp instantiates them with its emulated warps and runs the same code on the host
// (MoeEmulationTest). The grouped expert GEMMs are in moe.cu (device only).
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

#ifdef __CUDACC__
#define MOE_FN __device__ __forceinline__
#define MOE_CONSTEXPR __host__ __device__ constexpr
#else
#define MOE_FN inline
#define MOE_CONSTEXPR constexpr
#endif

namespace tramontane::moe {

constexpr int WARP = 32;
constexpr int MAX_EXPERTS = 256, MAX_TOP_K = 8;       // MoeKernels.java checks both
constexpr int ROUTE_WARPS = 4, ROUTE_THREADS = ROUTE_WARPS * WARP;  // a warp per token
constexpr int PERMUTE_WARPS = 8, PERMUTE_THREADS = PERMUTE_WARPS * WARP;  // one CTA; warps take experts in turn
constexpr int ROW_THREADS = 256;                      // gather / combine: a CTA per row, threads over columns

// permute's shared memory: per-expert counts, first sorted rows and first tiles (+1 each), and the tile total
MOE_CONSTEXPR int permute_smem_bytes() { return (3 * (MAX_EXPERTS + 1) + 1) * 4; }

MOE_FN int popc(uint32_t bits) {
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
MOE_FN void route(const float* logits, int tokens, int experts, int top_k, int* expert_of, float* weight_of) {
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
MOE_FN void permute(const int* expert_of, int rows, int experts, int tile_rows, int max_tiles, int* order,
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
MOE_FN void gather(const float* x, const int* order, int top_k, int cols, float* x_sorted) {
    const int i = Ops::block_x();
    const float* src = x + static_cast<int64_t>(order[i] / top_k) * cols;
    float* dst = x_sorted + static_cast<int64_t>(i) * cols;
    for (int c = Ops::thread(); c < cols; c += ROW_THREADS) dst[c] = src[c];
}

// ---- combine: out[t, :] = sum of weight * y_sorted[row, :] over token t's top_k rows in ascending sorted position
// (ascending expert, the CPU's order), from 0, one fma per term. grid = tokens, block = ROW_THREADS.

template <class Ops>
MOE_FN void combine(const float* y_sorted, const int* position, const float* weight_of, int top_k, int cols,
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
