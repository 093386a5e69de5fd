// Rotate-half RoPE in place: in each head_dim slice of row t, pair (i, i + half) is rotated by
// cos/sin[t * half + i]. Products are rounded separately (no FMA contraction) to match the CPU backend exactly.
#include "common.cuh"

// x: [rows, cols] FP32 with cols = heads * head_dim; cos, sin: [rows, head_dim / 2]. grid = rows.
HOT_KERNEL void rope_f32(float* __restrict__ x, const float* __restrict__ cos, const float* __restrict__ sin,
                         int cols, int head_dim) {
    const int half = head_dim / 2, pairs = cols / 2;
    float* row = x + static_cast<int64_t>(blockIdx.x) * cols;
    const float* c_row = cos + static_cast<int64_t>(blockIdx.x) * half;
    const float* s_row = sin + static_cast<int64_t>(blockIdx.x) * half;
    for (int p = threadIdx.x; p < pairs; p += blockDim.x) {
        const int head = p / half, i = p % half;
        float* base = row + head * head_dim;
        const float c = c_row[i], s = s_row[i], x0 = base[i], x1 = base[i + half];
        base[i] = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
        base[i + half] = __fadd_rn(__fmul_rn(x1, c), __fmul_rn(x0, s));
    }
}
