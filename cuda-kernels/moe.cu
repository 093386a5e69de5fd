// Mixture of experts on the device, launched by MoeKernels.java, with no host synchronisation:
//  - moe_route: router top-k + softmax per token; moe_permute: the rows sorted by expert, offsets and the tile map;
//  - moe_gather: the tokens' rows in sorted order; moe_combine: the weighted un-permute (bodies in moe_core.cuh);
//  - moe_gemv_<format> / moe_gemm_<format>: grouped linears y[i] = scale[e] * x[i] w_e^T over the sorted rows, one
//    tile of rows of one expert per grid.y (the tile map), so the grid is sized for the worst case on the host.
//    Weights as linear.cu stores them (F32, BF16, FP8 e4m3; rows padded to 16 bytes, one stride for all experts),
//    decoded by common.cuh; the _w8a8 variants quantize x to e4m3 by the expert's static activation scale on load.
#include "common.cuh"
#include "moe_core.cuh"

namespace {
namespace moe = tramontane::moe;

extern __shared__ __align__(16) unsigned char moe_smem[];

// The hardware the bodies of moe_core.cuh run on (test/attention_emulator.cpp has the host emulation of each).
struct MoeDeviceOps {
    static __device__ __forceinline__ int block_x() { return blockIdx.x; }
    static __device__ __forceinline__ int thread() { return threadIdx.x; }
    static __device__ __forceinline__ unsigned char* shared() { return moe_smem; }
    static __device__ __forceinline__ void sync() { __syncthreads(); }
    static __device__ __forceinline__ float shfl_xor(float v, int mask) {
        return __shfl_xor_sync(0xffffffffu, v, mask);
    }
    static __device__ __forceinline__ uint32_t ballot(bool p) { return __ballot_sync(0xffffffffu, p); }
    static __device__ __forceinline__ double exp(double x) { return ::exp(x); }
    static __device__ __forceinline__ float fma(float a, float b, float c) { return fmaf(a, b, c); }
};
}  // namespace

// The grouped linears (named, not anonymous: linear.cu's constants of the same names share this translation unit).
namespace tramontane::moe {
constexpr int GEMV_WARPS = 4;      // output columns per block, a warp each
constexpr int GEMV_TILE_ROWS = 4;  // routed rows per tile (MoeKernels.GEMV_TILE_ROWS)
constexpr int TILE_M = 64, TILE_N = 64, TILE_K = 32, GEMM_THREADS = 256;  // TILE_M = MoeKernels.GEMM_TILE_ROWS

// x as the linear sees it: static w8a8 rounds x / scale to e4m3 (as quantize_e4m3_f32 and the CPU do)
template <bool QUANTIZE>
__device__ __forceinline__ float input(float x, float activation_scale) {
    if constexpr (QUANTIZE) return static_cast<float>(__nv_fp8_e4m3(__fdiv_rn(x, activation_scale)));
    return x;
}

// The tile's expert (-1: an unused tile), its first sorted row and its row count.
struct Tile {
    int expert, first, rows;
};

__device__ __forceinline__ Tile tile_of(const int* tiles, const int* offsets, int tile_rows) {
    const int expert = tiles[2 * blockIdx.y];
    if (expert < 0) return {-1, 0, 0};
    const int first = tiles[2 * blockIdx.y + 1];
    return {expert, first, min(tile_rows, offsets[expert + 1] - first)};
}

// grid = (ceil(n / GEMV_WARPS), max tiles of GEMV_TILE_ROWS), block = 32 * GEMV_WARPS: linear.cu's gemv on one tile.
template <typename T, bool QUANTIZE>
__device__ __forceinline__ void grouped_gemv(const float* __restrict__ x, const T* const* __restrict__ weights,
                                             int64_t stride, const float* __restrict__ activation_scale,
                                             const float* __restrict__ out_scale, const int* __restrict__ offsets,
                                             const int* __restrict__ tiles, float* __restrict__ y, int n, int k) {
    constexpr int V = tramontane::Chunk<T>::ELEMENTS;
    const Tile tile = tile_of(tiles, offsets, GEMV_TILE_ROWS);
    const int lane = threadIdx.x & 31;
    const int col = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
    if (tile.expert < 0 || col >= n) return;  // whole warps: warp_sum below needs every lane
    const float a_scale = QUANTIZE ? activation_scale[tile.expert] : 1.0f;
    const uint4* w_row = reinterpret_cast<const uint4*>(weights[tile.expert] + col * stride);
    const float* xs = x + static_cast<int64_t>(tile.first) * k;
    const int chunks = (k + V - 1) / V;
    const bool x_aligned = (k & 3) == 0;  // rows of x start on 16 bytes: float4 loads
    float acc[GEMV_TILE_ROWS] = {};
#pragma unroll 2
    for (int c = lane; c < chunks; c += 32) {
        float wv[V];
        tramontane::decode(__ldg(w_row + c), wv);
        const int k0 = c * V;
        if (x_aligned && k0 + V <= k) {
#pragma unroll
            for (int t = 0; t < GEMV_TILE_ROWS; t++) {
                if (t >= tile.rows) break;
                const float4* xv = reinterpret_cast<const float4*>(xs + static_cast<int64_t>(t) * k + k0);
#pragma unroll
                for (int q = 0; q < V / 4; q++) {
                    const float4 a = __ldg(xv + q);
                    acc[t] = fmaf(wv[4 * q], input<QUANTIZE>(a.x, a_scale), acc[t]);
                    acc[t] = fmaf(wv[4 * q + 1], input<QUANTIZE>(a.y, a_scale), acc[t]);
                    acc[t] = fmaf(wv[4 * q + 2], input<QUANTIZE>(a.z, a_scale), acc[t]);
                    acc[t] = fmaf(wv[4 * q + 3], input<QUANTIZE>(a.w, a_scale), acc[t]);
                }
            }
        } else {
#pragma unroll
            for (int t = 0; t < GEMV_TILE_ROWS; t++) {
                if (t >= tile.rows) break;
                const float* xt = xs + static_cast<int64_t>(t) * k;
#pragma unroll
                for (int i = 0; i < V; i++) {
                    if (k0 + i < k) acc[t] = fmaf(wv[i], input<QUANTIZE>(xt[k0 + i], a_scale), acc[t]);
                }
            }
        }
    }
    const float scale = out_scale[tile.expert];
#pragma unroll
    for (int t = 0; t < GEMV_TILE_ROWS; t++) {
        const float sum = tramontane::warp_sum(acc[t]);
        if (lane == 0 && t < tile.rows) y[static_cast<int64_t>(tile.first + t) * n + col] = sum * scale;
    }
}

// grid = (ceil(n / TILE_N), max tiles of TILE_M), block = GEMM_THREADS: linear.cu's 64x64 gemm on one tile.
template <typename T, bool QUANTIZE>
__device__ __forceinline__ void grouped_gemm(const float* __restrict__ x, const T* const* __restrict__ weights,
                                             int64_t stride, const float* __restrict__ activation_scale,
                                             const float* __restrict__ out_scale, const int* __restrict__ offsets,
                                             const int* __restrict__ tiles, float* __restrict__ y, int n, int k) {
    __shared__ __align__(16) float xs[TILE_K][TILE_M + 4];  // k-major, as in linear.cu
    __shared__ __align__(16) float ws[TILE_K][TILE_N + 4];
    const Tile tile = tile_of(tiles, offsets, TILE_M);
    if (tile.expert < 0) return;  // the whole block
    const T* w = weights[tile.expert];
    const float a_scale = QUANTIZE ? activation_scale[tile.expert] : 1.0f;
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    const int n0 = blockIdx.x * TILE_N;
    const int kk = tid % TILE_K, r0 = tid / TILE_K;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < k; k0 += TILE_K) {
        const int kc = k0 + kk;
#pragma unroll
        for (int i = 0; i < TILE_M / (GEMM_THREADS / TILE_K); i++) {
            const int r = r0 + i * (GEMM_THREADS / TILE_K), gn = n0 + r;
            xs[kk][r] = r < tile.rows && kc < k
                            ? input<QUANTIZE>(x[static_cast<int64_t>(tile.first + r) * k + kc], a_scale)
                            : 0.0f;
            ws[kk][r] = gn < n && kc < k ? tramontane::to_float(w[gn * stride + kc]) : 0.0f;
        }
        __syncthreads();
#pragma unroll 8
        for (int q = 0; q < TILE_K; q++) {
            const float4 a = *reinterpret_cast<const float4*>(&xs[q][ty * 4]);
            const float4 b = *reinterpret_cast<const float4*>(&ws[q][tx * 4]);
            const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
            for (int i = 0; i < 4; i++) {
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
        }
        __syncthreads();
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
}  // namespace tramontane::moe

HOT_KERNEL void __launch_bounds__(moe::ROUTE_THREADS) moe_route(const float* __restrict__ logits, int tokens,
                                                               int experts, int top_k, int* __restrict__ expert_of,
                                                               float* __restrict__ weight_of) {
    moe::route<MoeDeviceOps>(logits, tokens, experts, top_k, expert_of, weight_of);
}

HOT_KERNEL void __launch_bounds__(moe::PERMUTE_THREADS, 1) moe_permute(const int* __restrict__ expert_of, int rows,
                                                                   int experts, int tile_rows, int max_tiles,
                                                                   int* __restrict__ order, int* __restrict__ position,
                                                                   int* __restrict__ offsets, int* __restrict__ tiles) {
    moe::permute<MoeDeviceOps>(expert_of, rows, experts, tile_rows, max_tiles, order, position, offsets, tiles);
}

HOT_KERNEL void __launch_bounds__(moe::ROW_THREADS) moe_gather(const float* __restrict__ x, const int* __restrict__ order,
                                                              int top_k, int cols, float* __restrict__ x_sorted) {
    moe::gather<MoeDeviceOps>(x, order, top_k, cols, x_sorted);
}

HOT_KERNEL void __launch_bounds__(moe::ROW_THREADS) moe_combine(const float* __restrict__ y_sorted,
                                                               const int* __restrict__ position,
                                                               const float* __restrict__ weight_of, int top_k, int cols,
                                                               float* __restrict__ out) {
    moe::combine<MoeDeviceOps>(y_sorted, position, weight_of, top_k, cols, out);
}

// One grouped gemv (128 threads) and gemm (GEMM_THREADS) per weight type; FP8 also with static w8a8.
HOT_KERNEL void __launch_bounds__(128) moe_gemv_f32(const float* x, const float* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemv<float, false>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(256) moe_gemm_f32(const float* x, const float* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemm<float, false>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(128) moe_gemv_bf16(const float* x, const __nv_bfloat16* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemv<__nv_bfloat16, false>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(256) moe_gemm_bf16(const float* x, const __nv_bfloat16* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemm<__nv_bfloat16, false>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(128) moe_gemv_e4m3(const float* x, const __nv_fp8_e4m3* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemv<__nv_fp8_e4m3, false>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(256) moe_gemm_e4m3(const float* x, const __nv_fp8_e4m3* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemm<__nv_fp8_e4m3, false>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(128, 1) moe_gemv_e4m3_w8a8(const float* x, const __nv_fp8_e4m3* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemv<__nv_fp8_e4m3, true>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(256) moe_gemm_e4m3_w8a8(const float* x, const __nv_fp8_e4m3* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemm<__nv_fp8_e4m3, true>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
