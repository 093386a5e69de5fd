// Layout moves around NCCL's all-gather, which concatenates equal-sized buffers: each rank pads its columns
// [rows, cols] to [rows, stride] (stride = the widest rank's cols), NCCL gathers [ranks][rows][stride], and the
// result is unpadded into whole [rows, total] with rank q's columns at offsets[q] .. offsets[q + 1].
#include "common.cuh"

// dst[r, c] = src[r, c] for c < cols; dst [rows, stride], its pad columns are not written (never read).
// grid = (ceil(cols / blockDim.x), rows).
HOT_KERNEL void pad_columns_f32(const float* __restrict__ src, float* __restrict__ dst, int cols, int stride) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c < cols) dst[static_cast<int64_t>(blockIdx.y) * stride + c] = src[static_cast<int64_t>(blockIdx.y) * cols + c];
}

// whole[r, offsets[q] + c] = gathered[q, r, c] for c < offsets[q + 1] - offsets[q]; offsets has ranks + 1
// entries, offsets[ranks] = total. grid = (ceil(total / blockDim.x), rows).
HOT_KERNEL void unpad_gathered_columns_f32(const float* __restrict__ gathered, float* __restrict__ whole,
                                           const int* __restrict__ offsets, int ranks, int rows, int stride) {
    const int total = offsets[ranks];
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= total) return;
    int q = 0;
    while (c >= offsets[q + 1]) q++;  // ranks is small (<= 8 GPUs a node)
    const int64_t r = blockIdx.y;
    whole[r * total + c] = gathered[(static_cast<int64_t>(q) * rows + r) * stride + (c - offsets[q])];
}
