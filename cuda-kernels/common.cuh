// Shared definitions for Tramontane's CUDA kernels.
// Every kernel is extern "C" so the Java side finds it by its plain name (cuModuleGetFunction).
// HOT_KERNEL marks kernels on the per-token path: build.sh fails the build if ptxas reports
// register spills for any of them.
#pragma once
#include <cstdint>

#define KERNEL extern "C" __global__
#define HOT_KERNEL extern "C" __global__

namespace tramontane {

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
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

}  // namespace tramontane
