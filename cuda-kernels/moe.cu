// Mixture of experts on the device, launched by MoeKernels.java, with no host synchronisation:
//  - moe_route: router top-k + softmax per token; moe_permute: the rows sorted by expert, offsets and the tile map;
//  - moe_gather: the tokens' rows in sorted order; moe_combine: the weighted un-permute (bodies in moe_core.cuh);
//  - moe_gemv_<format> / moe_gemm_<format>: grouped linears y[i] = scale[e] * x[i] w_e^T over the sorted rows, one
//    tile of rows of one expert per grid.y (the tile map), so the grid is sized for the worst case on the host.
//    Weights as linear.cu stores them (F32, BF16, FP8 e4m3; rows padded to 16 bytes, one stride for all experts);
//    the _w8a8 variants quantize x to e4m3 by the expert's static activation scale as they load it.
// Every body is in moe_core.cuh, so the host emulator runs the same code.
#include "common.cuh"
#include "moe_core.cuh"

namespace {
namespace moe = tramontane::moe;

extern __shared__ __align__(16) unsigned char moe_smem[];

// The hardware the bodies of moe_core.cuh run on (test/attention_emulator.cpp has the host emulation of each).
struct MoeDeviceOps : tramontane::DeviceOpsBase {
    static __device__ __forceinline__ unsigned char* shared() { return moe_smem; }
    static __device__ __forceinline__ uint32_t ballot(bool p) { return __ballot_sync(0xffffffffu, p); }
    static __device__ __forceinline__ double exp(double x) { return ::exp(x); }
    // weights: read-only for the kernel's lifetime, through the non-coherent cache
    static __device__ __forceinline__ void load16(const void* p, uint32_t (&out)[4]) {
        const uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
        out[0] = v.x;
        out[1] = v.y;
        out[2] = v.z;
        out[3] = v.w;
    }
    static __device__ __forceinline__ void load4_shared(const float* p, float (&out)[4]) {
        const float4 v = *reinterpret_cast<const float4*>(p);
        out[0] = v.x;
        out[1] = v.y;
        out[2] = v.z;
        out[3] = v.w;
    }
    // static w8a8: e4m3(x / scale), rounded to nearest even and saturated (as quantize_e4m3_f32 and the CPU do)
    static __device__ __forceinline__ float quantize_e4m3(float x, float scale) {
        return static_cast<float>(__nv_fp8_e4m3(__fdiv_rn(x, scale)));
    }
};
}  // namespace

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

// One grouped gemv (GEMV_THREADS) and gemm (GEMM_THREADS) per weight type; FP8 also with static w8a8. The gemvs ask
// for one block per SM at least: with the default bound ptxas spills a word of the e4m3 ones (80 registers).
HOT_KERNEL void __launch_bounds__(moe::GEMV_THREADS, 1) moe_gemv_f32(const float* x, const float* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemv<float, false, MoeDeviceOps>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(moe::GEMM_THREADS) moe_gemm_f32(const float* x, const float* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemm<float, false, MoeDeviceOps>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(moe::GEMV_THREADS, 1) moe_gemv_bf16(const float* x, const uint16_t* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemv<uint16_t, false, MoeDeviceOps>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(moe::GEMM_THREADS) moe_gemm_bf16(const float* x, const uint16_t* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemm<uint16_t, false, MoeDeviceOps>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(moe::GEMV_THREADS, 1) moe_gemv_e4m3(const float* x, const uint8_t* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemv<uint8_t, false, MoeDeviceOps>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(moe::GEMM_THREADS) moe_gemm_e4m3(const float* x, const uint8_t* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemm<uint8_t, false, MoeDeviceOps>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(moe::GEMV_THREADS, 1) moe_gemv_e4m3_w8a8(const float* x, const uint8_t* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemv<uint8_t, true, MoeDeviceOps>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
HOT_KERNEL void __launch_bounds__(moe::GEMM_THREADS) moe_gemm_e4m3_w8a8(const float* x, const uint8_t* const* weights, int64_t stride,
    const float* activation_scale, const float* out_scale, const int* offsets, const int* tiles, float* y, int n, int k) {
    moe::grouped_gemm<uint8_t, true, MoeDeviceOps>(x, weights, stride, activation_scale, out_scale, offsets, tiles, y, n, k);
}
