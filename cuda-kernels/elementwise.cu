// Element-wise FP32 ops on activations, grid-stride loops over int64 element counts. Products are rounded
// before the sums (__fmul_rn) where the CPU backend does so, so those ops match it bit for bit.
#include "common.cuh"

#define GRID_STRIDE(i, count) \
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (count); \
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// gate = silu(gate) * up over `count` elements.
HOT_KERNEL void swiglu_f32(float* __restrict__ gate, const float* __restrict__ up, int64_t count) {
    GRID_STRIDE(i, count) {
        const float g = gate[i];
        gate[i] = __fmul_rn(__fdiv_rn(g, 1.0f + expf(-g)), up[i]);
    }
}

// x += y over `count` elements.
HOT_KERNEL void add_f32(float* __restrict__ x, const float* __restrict__ y, int64_t count) {
    GRID_STRIDE(i, count) x[i] += y[i];
}

// x[t, :] *= scale[t] for x [rows, cols].
HOT_KERNEL void scale_rows_f32(float* __restrict__ x, const float* __restrict__ scale, int cols, int64_t count) {
    GRID_STRIDE(i, count) x[i] = __fmul_rn(x[i], scale[i / cols]);
}

// y = e4m3(clamp(x / scale, -448, 448)) decoded back to FP32 (static w8a8 activation quantization; the
// conversion rounds to nearest even and saturates, as Floats.floatToE4m3 does).
HOT_KERNEL void quantize_e4m3_f32(const float* __restrict__ x, float* __restrict__ y, float scale, int64_t count) {
    GRID_STRIDE(i, count) y[i] = static_cast<float>(__nv_fp8_e4m3(__fdiv_rn(x[i], scale)));
}

// dst[i, :] = src[rows[i], :] for i < n; src [*, src_cols], dst [n.., cols] with cols <= src_cols.
// grid = (column blocks, n).
HOT_KERNEL void gather_rows_f32(const float* __restrict__ src, int src_cols, const int* __restrict__ rows,
                                float* __restrict__ dst, int cols) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c < cols) dst[static_cast<int64_t>(blockIdx.y) * cols + c] = src[static_cast<int64_t>(rows[blockIdx.y]) * src_cols + c];
}
