// Linear layers: y[m, n] = scale * x[m, k] w[n, k]^T with FP32 activations, weights in their stored type
// (F32, BF16, FP8 e4m3) decoded in registers, FP32 accumulation. Weight rows are padded to a multiple of 16
// bytes (`stride` elements, zeros past k) so every row loads as whole uint4 chunks.
//  - gemv: decode-sized m. Each row streamed once per 4 tokens by one to eight warps (bandwidth-bound).
//  - gemm: prefill-sized m. 64x64 output tiles through shared memory, 4x4 outputs per thread.
#include "common.cuh"

namespace {
constexpr int GEMV_WARPS_PER_BLOCK = 8;  // rows per block x warps per row (LinearKernels.gemvConfig)
constexpr int GEMV_TOKENS = 4;           // tokens per block; grid.y covers the rest
constexpr int GEMV_UNROLL = 4;           // 16-byte weight loads in flight per lane
constexpr int TILE_M = 64, TILE_N = 64, TILE_K = 32, GEMM_THREADS = 256;

// x[t, k0 .. k0 + V) . w (decoded) into acc[t] for the block's tokens.
template <int V>
__device__ __forceinline__ void gemv_chunk(const float (&wv)[V], const float* __restrict__ xs, int k, int k0, int tokens,
                                           bool x_aligned, float (&acc)[GEMV_TOKENS]) {
    if (x_aligned && k0 + V <= k) {
#pragma unroll
        for (int t = 0; t < GEMV_TOKENS; t++) {
            if (t >= tokens) break;
            const float4* xv = reinterpret_cast<const float4*>(xs + static_cast<int64_t>(t) * k + k0);
#pragma unroll
            for (int q = 0; q < V / 4; q++) {
                const float4 a = __ldg(xv + q);
                acc[t] = fmaf(wv[4 * q], a.x, acc[t]);
                acc[t] = fmaf(wv[4 * q + 1], a.y, acc[t]);
                acc[t] = fmaf(wv[4 * q + 2], a.z, acc[t]);
                acc[t] = fmaf(wv[4 * q + 3], a.w, acc[t]);
            }
        }
    } else {
#pragma unroll
        for (int t = 0; t < GEMV_TOKENS; t++) {
            if (t >= tokens) break;
            const float* xt = xs + static_cast<int64_t>(t) * k;
#pragma unroll
            for (int i = 0; i < V; i++) {
                if (k0 + i < k) acc[t] = fmaf(wv[i], xt[k0 + i], acc[t]);
            }
        }
    }
}

// Quad q (four consecutive weights) of a 16-byte chunk of e4m3, decoded: a lane holds four decoded weights at a
// time instead of sixteen, the same products in the same order (the QUADS candidate below is e4m3 only).
__device__ __forceinline__ void decode_quad(const uint4& raw, int q, const __nv_fp8_e4m3*, float (&out)[4]) {
    tramontane::decode_e4m3x4(q == 0 ? raw.x : q == 1 ? raw.y : q == 2 ? raw.z : raw.w, out);
}

// One 16-byte chunk of weights (first weight k0) into acc: decoded whole, or with QUADS four weights at a time (fewer
// live registers: the candidate below). The same products in the same order either way.
template <bool QUADS, typename T>
__device__ __forceinline__ void gemv_raw(const uint4& raw, const T* w, const float* __restrict__ xs, int k, int k0, int tokens,
                                         bool x_aligned, float (&acc)[GEMV_TOKENS]) {
    constexpr int V = tramontane::Chunk<T>::ELEMENTS;
    if constexpr (QUADS) {
#pragma unroll
        for (int q = 0; q < V / 4; q++) {
            float wq[4];
            decode_quad(raw, q, w, wq);
            gemv_chunk(wq, xs, k, k0 + 4 * q, tokens, x_aligned, acc);
        }
    } else {
        float wv[V];
        tramontane::decode(raw, wv);
        gemv_chunk(wv, xs, k, k0, tokens, x_aligned, acc);
    }
}

// grid = (ceil(n / blockDim.z), ceil(m / GEMV_TOKENS)), block = (32, parts, rows) with parts * rows = GEMV_WARPS_PER_BLOCK:
// each output row is split over `parts` warps (blockDim.y; more for narrow layers, so that enough warps stream
// weights to cover the memory latency), each warp keeping GEMV_UNROLL 16-byte weight loads in flight per lane
// (evict-first: a decode step reads each weight once). Partial sums meet in shared memory.
template <typename T, bool QUADS = false>
__device__ __forceinline__ void gemv(const float* __restrict__ x, const T* __restrict__ w, int64_t stride,
                                     float* __restrict__ y, int m, int n, int k, float scale) {
    constexpr int V = tramontane::Chunk<T>::ELEMENTS;
    __shared__ float partial[GEMV_WARPS_PER_BLOCK][GEMV_TOKENS];
    const int lane = threadIdx.x, part = threadIdx.y, parts = blockDim.y;
    const int warp = threadIdx.z * parts + part;
    const int row = blockIdx.x * blockDim.z + threadIdx.z;
    const int t0 = blockIdx.y * GEMV_TOKENS, tokens = min(GEMV_TOKENS, m - t0);
    float acc[GEMV_TOKENS] = {};
    if (row < n) {  // no return: every warp reaches the barrier below
        const uint4* w_row = reinterpret_cast<const uint4*>(w + row * stride);
        const float* xs = x + static_cast<int64_t>(t0) * k;
        const int chunks = (k + V - 1) / V, step = 32 * parts;
        const bool x_aligned = (k & 3) == 0;  // rows of x start on 16 bytes: float4 loads
        int c = part * 32 + lane;
        for (; c + (GEMV_UNROLL - 1) * step < chunks; c += GEMV_UNROLL * step) {
            uint4 raw[GEMV_UNROLL];
#pragma unroll
            for (int u = 0; u < GEMV_UNROLL; u++) raw[u] = __ldcs(w_row + c + u * step);
#pragma unroll
            for (int u = 0; u < GEMV_UNROLL; u++) gemv_raw<QUADS>(raw[u], w, xs, k, (c + u * step) * V, tokens, x_aligned, acc);
        }
        for (; c < chunks; c += step) gemv_raw<QUADS>(__ldcs(w_row + c), w, xs, k, c * V, tokens, x_aligned, acc);
    }
#pragma unroll
    for (int t = 0; t < GEMV_TOKENS; t++) {
        const float sum = tramontane::warp_sum(acc[t]);
        if (lane == 0) partial[warp][t] = sum;
    }
    __syncthreads();
    if (part == 0 && lane < tokens && row < n) {
        float sum = 0.0f;
        for (int p = 0; p < parts; p++) sum += partial[threadIdx.z * parts + p][lane];
        y[static_cast<int64_t>(t0 + lane) * n + row] = sum * scale;
    }
}

// grid = (ceil(n / TILE_N), ceil(m / TILE_M)), block = GEMM_THREADS.
template <typename T>
__device__ __forceinline__ void gemm(const float* __restrict__ x, const T* __restrict__ w, int64_t stride,
                                     float* __restrict__ y, int m, int n, int k, float scale) {
    // k-major tiles, so a thread's 4 consecutive m (or n) values are one float4; +4 keeps rows 16-byte aligned
    __shared__ __align__(16) float xs[TILE_K][TILE_M + 4];
    __shared__ __align__(16) float ws[TILE_K][TILE_N + 4];
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    const int m0 = blockIdx.y * TILE_M, n0 = blockIdx.x * TILE_N;
    const int kk = tid % TILE_K, r0 = tid / TILE_K;  // loads: a warp reads 32 consecutive k of one row
    float acc[4][4] = {};
    for (int k0 = 0; k0 < k; k0 += TILE_K) {
        const int kc = k0 + kk;
#pragma unroll
        for (int i = 0; i < TILE_M / (GEMM_THREADS / TILE_K); i++) {
            const int r = r0 + i * (GEMM_THREADS / TILE_K), gm = m0 + r, gn = n0 + r;
            xs[kk][r] = gm < m && kc < k ? x[static_cast<int64_t>(gm) * k + kc] : 0.0f;
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
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int gm = m0 + ty * 4 + i;
        if (gm >= m) break;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int gn = n0 + tx * 4 + j;
            if (gn < n) y[static_cast<int64_t>(gm) * n + gn] = acc[i][j] * scale;
        }
    }
}
}  // namespace

// One gemv (32 * GEMV_WARPS_PER_BLOCK threads) and one gemm (GEMM_THREADS) kernel per weight type.
HOT_KERNEL void __launch_bounds__(256, 2) linear_gemv_f32(const float* x, const float* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemv(x, w, stride, y, m, n, k, scale);
}
HOT_KERNEL void __launch_bounds__(256) linear_gemm_f32(const float* x, const float* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemm(x, w, stride, y, m, n, k, scale);
}

HOT_KERNEL void __launch_bounds__(256, 2) linear_gemv_bf16(const float* x, const __nv_bfloat16* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemv(x, w, stride, y, m, n, k, scale);
}
HOT_KERNEL void __launch_bounds__(256) linear_gemm_bf16(const float* x, const __nv_bfloat16* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemm(x, w, stride, y, m, n, k, scale);
}

HOT_KERNEL void __launch_bounds__(256, 2) linear_gemv_e4m3(const float* x, const __nv_fp8_e4m3* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemv(x, w, stride, y, m, n, k, scale);
}
HOT_KERNEL void __launch_bounds__(256) linear_gemm_e4m3(const float* x, const __nv_fp8_e4m3* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemm(x, w, stride, y, m, n, k, scale);
}

// The candidate for the next GPU session's GemvTiming A/B (the gemv above, decoded a quad at a time): 4 chunks in
// flight per lane in at most 80 registers (72 on sm_90a: 3 blocks of 8 warps per SM, against 2 at the gemv's 86).
// 8 chunks spill at that cap.
HOT_KERNEL void __launch_bounds__(256, 3) linear_gemv_lean4_e4m3(const float* x, const __nv_fp8_e4m3* w, int64_t stride,
                                                              float* y, int m, int n, int k, float scale) {
    gemv<__nv_fp8_e4m3, true>(x, w, stride, y, m, n, k, scale);
}
