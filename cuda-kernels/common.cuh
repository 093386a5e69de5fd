// Shared definitions for Tramontane's CUDA kernels.
// Every kernel is extern "C" so the Java side finds it by its plain name (cuModuleGetFunction).
// HOT_KERNEL marks kernels on the per-token path: build.sh fails the build if ptxas reports
// register spills for any of them.
#pragma once
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp8.h>

#define KERNEL extern "C" __global__
#define HOT_KERNEL extern "C" __global__

namespace tramontane {

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Sum over the whole block; every thread gets the result. `scratch` holds one float per warp.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    v = warp_sum(v);
    __syncthreads();  // scratch may be reused by the caller
    return v;
}

// Max over the whole block, like block_sum.
__device__ __forceinline__ float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -INFINITY;
    v = warp_max(v);
    __syncthreads();
    return v;
}

// Weight element types as stored on the device (the Java side's WeightFormat): decoded to FP32 in registers.
__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(__nv_fp8_e4m3 v) { return static_cast<float>(v); }

// The hardware operations every kernel family's Ops type supplies alike (the bodies in *_core.cuh are written
// against an Ops type so the host emulators can run them); each family's Ops derives from this and adds its own.
struct DeviceOpsBase {
    static __device__ __forceinline__ int block_x() { return blockIdx.x; }
    static __device__ __forceinline__ int block_y() { return blockIdx.y; }
    static __device__ __forceinline__ int block_z() { return blockIdx.z; }
    static __device__ __forceinline__ int grid_x() { return gridDim.x; }
    static __device__ __forceinline__ int thread() { return threadIdx.x; }
    static __device__ __forceinline__ void sync() { __syncthreads(); }
    static __device__ __forceinline__ float shfl_xor(float v, int mask) {
        return __shfl_xor_sync(0xffffffffu, v, mask);
    }
    static __device__ __forceinline__ float as_float(uint32_t bits) { return __uint_as_float(bits); }
    static __device__ __forceinline__ float fma(float a, float b, float c) { return fmaf(a, b, c); }
    static __device__ __forceinline__ void store2(float* p, float a, float b) {
        *reinterpret_cast<float2*>(p) = make_float2(a, b);
    }
    static __device__ __forceinline__ float e4m3(uint8_t bits) {
        __nv_fp8_e4m3 v;
        v.__x = bits;
        return static_cast<float>(v);
    }
    // four FP32 read-only for the kernel's lifetime (activations, read by many warps), through the non-coherent cache
    static __device__ __forceinline__ void load4(const float* p, float (&out)[4]) {
        const float4 v = __ldg(reinterpret_cast<const float4*>(p));
        out[0] = v.x;
        out[1] = v.y;
        out[2] = v.z;
        out[3] = v.w;
    }
    // 16 bytes global -> shared, bypassing L1; fill = false writes 16 zero bytes and reads nothing
    static __device__ __forceinline__ void cp_async16(void* dst, const void* src, bool fill) {
        const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(dst));
        const int bytes = fill ? 16 : 0;
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(address), "l"(src), "r"(bytes)
                     : "memory");
    }
    static __device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
    template <int PENDING>
    static __device__ __forceinline__ void cp_async_wait() {
        asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING) : "memory");
    }
    static __device__ __forceinline__ uint16_t to_bf16(float x) { return __bfloat16_as_ushort(__float2bfloat16_rn(x)); }
    // round to nearest even, saturated to +-448 (cvt.rn.satfinite.e4m3x2.f32), as the CPU's Floats.floatToE4m3
    static __device__ __forceinline__ uint8_t to_e4m3(float x) {
        return static_cast<uint8_t>(__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3));
    }
    // two e4m3 in the low 16 bits, the first in the low byte (cvt.rn.f16x2.e4m3x2, then to FP32)
    static __device__ __forceinline__ void e4m3x2(uint32_t bits, float& lo, float& hi) {
        __nv_fp8x2_e4m3 pair;
        pair.__x = static_cast<__nv_fp8x2_storage_t>(bits);
        const float2 f = static_cast<float2>(pair);
        lo = f.x;
        hi = f.y;
    }
};

}  // namespace tramontane
