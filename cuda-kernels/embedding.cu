// Embedding gather: out[t, :] = table[tokens[t], :] decoded to FP32 (no scale, like the CPU backend's weight()).
#include "common.cuh"

// table: [vocab, stride] of T (rows padded to `stride` elements); tokens: [n] ids checked by the launcher;
// out: [n, cols] FP32. grid = n, block = up to 1024 threads striding over the columns.
template <typename T>
__device__ __forceinline__ void embed(const T* __restrict__ table, int64_t stride, const int* __restrict__ tokens,
                                      float* __restrict__ out, int cols) {
    const T* row = table + static_cast<int64_t>(tokens[blockIdx.x]) * stride;
    float* dst = out + static_cast<int64_t>(blockIdx.x) * cols;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) dst[i] = tramontane::to_float(row[i]);
}

HOT_KERNEL void embed_f32(const float* table, int64_t stride, const int* tokens, float* out, int cols) {
    embed(table, stride, tokens, out, cols);
}
HOT_KERNEL void embed_bf16(const __nv_bfloat16* table, int64_t stride, const int* tokens, float* out, int cols) {
    embed(table, stride, tokens, out, cols);
}
HOT_KERNEL void embed_e4m3(const __nv_fp8_e4m3* table, int64_t stride, const int* tokens, float* out, int cols) {
    embed(table, stride, tokens, out, cols);
}
