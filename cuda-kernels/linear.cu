// Linear layers: y[m, n] = scale * x[m, k] w[n, k]^T with FP32 activations, weights in their stored type
// (F32, BF16, FP8 e4m3) decoded in registers, FP32 accumulation. Weight rows are padded to a multiple of 16
// bytes (`stride` elements, zeros past k) so every row loads as whole uint4 chunks.
//  - gemv: decode-sized m (up to 8 tokens, one pass over the weights). Each row streamed by one to eight warps.
//  - gemm: prefill-sized m. 64x64 output tiles through shared memory, 4x4 outputs per thread.
#include "common.cuh"

namespace {
constexpr int GEMV_WARPS_PER_BLOCK = 8;  // rows per block x warps per row (LinearKernels.gemvConfig)
constexpr int GEMV_TOKENS = 8;           // tokens per block: a decode step of up to 8 reads each weight once
constexpr int TILE_M = 64, TILE_N = 64, TILE_K = 32, GEMM_THREADS = 256;

// A/B baseline for one GPU session (the previous gemv, one warp per row, 4 rows per block); removed after.
constexpr int ROWWARP_WARPS = 4, ROWWARP_TOKENS = 4;
// grid = (ceil(n / ROWWARP_WARPS), ceil(m / ROWWARP_TOKENS)), block = 32 * ROWWARP_WARPS.
template <typename T>
__device__ __forceinline__ void gemv_rowwarp(const float* __restrict__ x, const T* __restrict__ w, int64_t stride,
                                     float* __restrict__ y, int m, int n, int k, float scale) {
    constexpr int V = tramontane::Chunk<T>::ELEMENTS;
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * ROWWARP_WARPS + (threadIdx.x >> 5);
    if (row >= n) return;  // the whole warp: warp_sum below needs every lane
    const int t0 = blockIdx.y * ROWWARP_TOKENS, tokens = min(ROWWARP_TOKENS, m - t0);
    const uint4* w_row = reinterpret_cast<const uint4*>(w + row * stride);
    const float* xs = x + static_cast<int64_t>(t0) * k;
    const int chunks = (k + V - 1) / V;
    const bool x_aligned = (k & 3) == 0;  // rows of x start on 16 bytes: float4 loads
    float acc[ROWWARP_TOKENS] = {};
#pragma unroll 2
    for (int c = lane; c < chunks; c += 32) {
        float wv[V];
        tramontane::decode(__ldg(w_row + c), wv);
        const int k0 = c * V;
        if (x_aligned && k0 + V <= k) {
#pragma unroll
            for (int t = 0; t < ROWWARP_TOKENS; t++) {
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
            for (int t = 0; t < ROWWARP_TOKENS; t++) {
                if (t >= tokens) break;
                const float* xt = xs + static_cast<int64_t>(t) * k;
#pragma unroll
                for (int i = 0; i < V; i++) {
                    if (k0 + i < k) acc[t] = fmaf(wv[i], xt[k0 + i], acc[t]);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < ROWWARP_TOKENS; t++) {
        const float sum = tramontane::warp_sum(acc[t]);
        if (lane == 0 && t < tokens) y[static_cast<int64_t>(t0 + t) * n + row] = sum * scale;
    }
}

// Four consecutive weights of type T as one load: the unit a lane takes in the gemv.
template <typename T> struct Quad;
template <> struct Quad<float> { using Raw = uint4; };
template <> struct Quad<__nv_bfloat16> { using Raw = uint2; };
template <> struct Quad<__nv_fp8_e4m3> { using Raw = uint32_t; };

__device__ __forceinline__ void decode4(const uint4& raw, float (&out)[4]) { tramontane::decode(raw, out); }
__device__ __forceinline__ void decode4(const uint2& raw, float (&out)[4]) {
    out[0] = __uint_as_float(raw.x << 16);
    out[1] = __uint_as_float(raw.x & 0xffff0000u);
    out[2] = __uint_as_float(raw.y << 16);
    out[3] = __uint_as_float(raw.y & 0xffff0000u);
}
__device__ __forceinline__ void decode4(uint32_t raw, float (&out)[4]) {
#pragma unroll
    for (int j = 0; j < 2; j++) {
        __nv_fp8x2_e4m3 pair;
        pair.__x = static_cast<__nv_fp8x2_storage_t>(raw >> (16 * j));
        const float2 f = static_cast<float2>(pair);
        out[2 * j] = f.x;
        out[2 * j + 1] = f.y;
    }
}

// x[t, k0 .. k0 + 4) . wv into acc[t] for the block's tokens; x rows are read as one float4 where they can be.
__device__ __forceinline__ void gemv_quad(const float (&wv)[4], const float* __restrict__ x, int k, int k0, int tokens,
                                          bool x_aligned, float (&acc)[GEMV_TOKENS]) {
    if (x_aligned && k0 + 4 <= k) {
#pragma unroll
        for (int t = 0; t < GEMV_TOKENS; t++) {
            if (t >= tokens) break;
            const float4 a = __ldg(reinterpret_cast<const float4*>(x + static_cast<int64_t>(t) * k + k0));
            acc[t] = fmaf(wv[0], a.x, acc[t]);
            acc[t] = fmaf(wv[1], a.y, acc[t]);
            acc[t] = fmaf(wv[2], a.z, acc[t]);
            acc[t] = fmaf(wv[3], a.w, acc[t]);
        }
    } else {
#pragma unroll
        for (int t = 0; t < GEMV_TOKENS; t++) {
            if (t >= tokens) break;
            const float* xt = x + static_cast<int64_t>(t) * k;
#pragma unroll
            for (int i = 0; i < 4; i++) {
                if (k0 + i < k) acc[t] = fmaf(wv[i], xt[k0 + i], acc[t]);
            }
        }
    }
}

// grid = (ceil(n / blockDim.z), ceil(m / GEMV_TOKENS)), block = (32, parts, rows) with parts * rows = GEMV_WARPS_PER_BLOCK:
// each output row is split over `parts` warps (blockDim.y; more for narrow layers, so that enough warps stream
// weights to cover the memory latency). A lane takes four consecutive weights at a time, so a warp's weight load
// is one contiguous run (128 B of e4m3, 256 of BF16, 512 of F32) and its float4 loads of x are contiguous too (the
// x reads, four bytes per e4m3 weight and token, are what bound a lane that takes 16 weights at once); each lane
// keeps 64 bytes of weight loads in flight (evict-first: a decode step reads each weight once). Partial sums meet
// in shared memory. Rows are padded to 16 bytes with zeros, so the last quad of a row is always loadable.
template <typename T>
__device__ __forceinline__ void gemv(const float* __restrict__ x, const T* __restrict__ w, int64_t stride,
                                     float* __restrict__ y, int m, int n, int k, float scale) {
    using Raw = typename Quad<T>::Raw;
    constexpr int UNROLL = 64 / sizeof(Raw);
    __shared__ float partial[GEMV_WARPS_PER_BLOCK][GEMV_TOKENS];
    const int lane = threadIdx.x, part = threadIdx.y, parts = blockDim.y;
    const int warp = threadIdx.z * parts + part;
    const int row = blockIdx.x * blockDim.z + threadIdx.z;
    const int t0 = blockIdx.y * GEMV_TOKENS, tokens = min(GEMV_TOKENS, m - t0);
    float acc[GEMV_TOKENS] = {};
    if (row < n) {  // no return: every warp reaches the barrier below
        const Raw* w_row = reinterpret_cast<const Raw*>(w + row * stride);
        const float* xs = x + static_cast<int64_t>(t0) * k;
        const int quads = (k + 3) / 4, step = 32 * parts;
        const bool x_aligned = (k & 3) == 0;  // rows of x start on 16 bytes: float4 loads
        int q = part * 32 + lane;
        for (; q + (UNROLL - 1) * step < quads; q += UNROLL * step) {
            Raw raw[UNROLL];
#pragma unroll
            for (int u = 0; u < UNROLL; u++) raw[u] = __ldcs(w_row + q + u * step);
#pragma unroll
            for (int u = 0; u < UNROLL; u++) {
                float wv[4];
                decode4(raw[u], wv);
                gemv_quad(wv, xs, k, 4 * (q + u * step), tokens, x_aligned, acc);
            }
        }
        for (; q < quads; q += step) {
            float wv[4];
            decode4(__ldcs(w_row + q), wv);
            gemv_quad(wv, xs, k, 4 * q, tokens, x_aligned, acc);
        }
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
HOT_KERNEL void __launch_bounds__(128) linear_gemv_rowwarp_f32(const float* x, const float* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemv_rowwarp(x, w, stride, y, m, n, k, scale);
}
HOT_KERNEL void __launch_bounds__(128) linear_gemv_rowwarp_bf16(const float* x, const __nv_bfloat16* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemv_rowwarp(x, w, stride, y, m, n, k, scale);
}
HOT_KERNEL void __launch_bounds__(128) linear_gemv_rowwarp_e4m3(const float* x, const __nv_fp8_e4m3* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemv_rowwarp(x, w, stride, y, m, n, k, scale);
}
