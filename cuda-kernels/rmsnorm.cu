// RMSNorm over the rows of a [rows, dim] FP32 activation: y = x / sqrt(mean(x^2) + eps) * w.
// One block per row; statistics in FP32 with eps inside the square root (MODELS.md 5.2).
#include "common.cuh"

// x, y: [rows, dim] row-major FP32 (y may alias x); w: [dim] FP32. grid = rows, block = 32..1024 threads.
HOT_KERNEL void __launch_bounds__(1024) rmsnorm_f32(const float* __restrict__ x, const float* __restrict__ w,
                                                    float* y, int dim, float eps) {
    __shared__ float scratch[32];
    const float* row = x + static_cast<int64_t>(blockIdx.x) * dim;
    float* out = y + static_cast<int64_t>(blockIdx.x) * dim;
    float sum_sq = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) sum_sq = fmaf(row[i], row[i], sum_sq);
    const float inv_rms = rsqrtf(tramontane::block_sum(sum_sq, scratch) / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[i] = row[i] * inv_rms * w[i];
}
