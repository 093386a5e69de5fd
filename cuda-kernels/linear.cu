// Linear layers: y[m, n] = scale * x[m, k] w[n, k]^T with FP32 activations, weights in their stored type
// (F32, BF16, FP8 e4m3) decoded in registers, FP32 accumulation. Weight rows are padded to a multiple of 16
// bytes (`stride` elements, zeros past k) so every row loads as whole 16-byte chunks.
//  - gemv: decode-sized m (up to 8). Weights streamed through a shared-memory ring by cp.async; the body is in
//    linear_core.cuh, so the host emulator runs the same code.
//  - gemm: prefill-sized m. 64x64 output tiles through shared memory, 4x4 outputs per thread.
#include "common.cuh"
#include "linear_core.cuh"

namespace {
namespace lin = tramontane::linear;
constexpr int TILE_M = 64, TILE_N = 64, TILE_K = 32, GEMM_THREADS = 256;

extern __shared__ __align__(16) unsigned char linear_smem[];

// The hardware the gemv body runs on (test/attention_emulator.cpp has the host emulation of each).
struct LinearDeviceOps : tramontane::DeviceOpsBase {
    static __device__ __forceinline__ unsigned char* shared() { return linear_smem; }
    static __device__ __forceinline__ void load16_shared(const unsigned char* p, uint32_t (&out)[4]) {
        const uint4 v = *reinterpret_cast<const uint4*>(p);
        out[0] = v.x;
        out[1] = v.y;
        out[2] = v.z;
        out[3] = v.w;
    }
};

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

// The gemv kernels' parameters (linear_core.cuh's gemv: x, stride, m, k, parts, then three weights' w, y, n, scale).
#define GEMV_PARAMETERS(T)                                                                                          \
    const float *x, int64_t stride, int m, int k, int parts, const T *w0, float *y0, int n0, float scale0, const T *w1, \
        float *y1, int n1, float scale1, const T *w2, float *y2, int n2, float scale2
#define GEMV_ARGUMENTS x, stride, m, k, parts, w0, y0, n0, scale0, w1, y1, n1, scale1, w2, y2, n2, scale2

// One gemv (lin::GEMV_THREADS, Production::smem_bytes() of dynamic shared memory; 2 blocks per SM: 4 rows a warp need
// more than the 80 registers of 3) and one gemm (GEMM_THREADS) kernel per weight type.
using lin::Production;
HOT_KERNEL void __launch_bounds__(lin::GEMV_THREADS, 2) linear_gemv_f32(GEMV_PARAMETERS(float)) {
    lin::gemv<float, Production, LinearDeviceOps>(GEMV_ARGUMENTS);
}
HOT_KERNEL void __launch_bounds__(256) linear_gemm_f32(const float* x, const float* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemm(x, w, stride, y, m, n, k, scale);
}

HOT_KERNEL void __launch_bounds__(lin::GEMV_THREADS, 2) linear_gemv_bf16(GEMV_PARAMETERS(uint16_t)) {
    lin::gemv<uint16_t, Production, LinearDeviceOps>(GEMV_ARGUMENTS);
}
HOT_KERNEL void __launch_bounds__(256) linear_gemm_bf16(const float* x, const __nv_bfloat16* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemm(x, w, stride, y, m, n, k, scale);
}

HOT_KERNEL void __launch_bounds__(lin::GEMV_THREADS, 2) linear_gemv_e4m3(GEMV_PARAMETERS(uint8_t)) {
    lin::gemv<uint8_t, Production, LinearDeviceOps>(GEMV_ARGUMENTS);
}
HOT_KERNEL void __launch_bounds__(256) linear_gemm_e4m3(const float* x, const __nv_fp8_e4m3* w, int64_t stride, float* y,
                                                     int m, int n, int k, float scale) {
    gemm(x, w, stride, y, m, n, k, scale);
}

// Other ring shapes, timed beside the production one by GemvTiming (GemvLayout.ALTERNATIVES), the next session's A/B
// on what the production shape leaves to L1: a 2-stage ring of 2 rows a warp (3 blocks per SM; the larger L1 won o
// and down by 1.13-1.19x on an H200), 4 rows a warp with 3 stages (L1 large enough for down's 128 KB of x) and 8 rows
// a warp with 2 stages (each x load feeds eight weights; 126 registers).
HOT_KERNEL void __launch_bounds__(lin::GEMV_THREADS, 3) linear_gemv_e4m3_r2c2s2(GEMV_PARAMETERS(uint8_t)) {
    lin::gemv<uint8_t, lin::Layout<2, 2, 2>, LinearDeviceOps>(GEMV_ARGUMENTS);
}
HOT_KERNEL void __launch_bounds__(lin::GEMV_THREADS, 2) linear_gemv_e4m3_r4c1s3(GEMV_PARAMETERS(uint8_t)) {
    lin::gemv<uint8_t, lin::Layout<4, 1, 3>, LinearDeviceOps>(GEMV_ARGUMENTS);
}
HOT_KERNEL void __launch_bounds__(lin::GEMV_THREADS, 2) linear_gemv_e4m3_r8c1s2(GEMV_PARAMETERS(uint8_t)) {
    lin::gemv<uint8_t, lin::Layout<8, 1, 2>, LinearDeviceOps>(GEMV_ARGUMENTS);
}
HOT_KERNEL void __launch_bounds__(lin::GEMV_THREADS, 3) linear_gemv_bf16_r2c2s2(GEMV_PARAMETERS(uint16_t)) {
    lin::gemv<uint16_t, lin::Layout<2, 2, 2>, LinearDeviceOps>(GEMV_ARGUMENTS);
}
HOT_KERNEL void __launch_bounds__(lin::GEMV_THREADS, 2) linear_gemv_bf16_r4c1s3(GEMV_PARAMETERS(uint16_t)) {
    lin::gemv<uint16_t, lin::Layout<4, 1, 3>, LinearDeviceOps>(GEMV_ARGUMENTS);
}
HOT_KERNEL void __launch_bounds__(lin::GEMV_THREADS, 2) linear_gemv_bf16_r8c1s2(GEMV_PARAMETERS(uint16_t)) {
    lin::gemv<uint16_t, lin::Layout<8, 1, 2>, LinearDeviceOps>(GEMV_ARGUMENTS);
}
