// The tensor-core GEMM's input conversions (gemm_sm90.cu instantiates them with the device's Ops as gemm_input_*,
// test/attention_emulator.cpp with emulated ones: GemmInputEmulationTest), one CTA of THREADS per row r of x [m, k]
// FP32, out rows `stride` elements apart:
//  - bf16: out[r, c] = bf16(x[r, c]), rounded to nearest even;
//  - e4m3: out[r, c] = e4m3(x[r, c] / scale) with the checkpoint's static activation scale (w8a8), as the CPU backend;
//  - e4m3_rows: row_scales[r] = max |x[r, :]| / 448 (1 for an all-zero row), out[r, c] = e4m3(x[r, c] / row_scales[r]).
//    The largest element maps to 448 exactly; every element keeps e4m3's 3-bit relative precision down to 2^-6 of the
//    row's maximum (smaller ones lose bits to subnormals), which the dot products average out.
// e4m3 rounds to nearest even and saturates to +-448. Where rows are 16-byte aligned (k % 4 == 0, as every model
// width) a thread converts four elements a step, one float4 load and one packed store, four steps unrolled so it has
// several loads in flight (one 4-byte load a thread held these at ~1 TB/s on an H200); one at a time otherwise.
#pragma once
#include <cstdint>

#include "core_prelude.cuh"

namespace tramontane::gemm_input {

constexpr int THREADS = 256;
constexpr float E4M3_MAX = 448.0f;

// the row maximum's partials, one per warp
CORE_CONSTEXPR int smem_bytes() { return THREADS / 32 * 4; }

// dst[c] = convert(row[c]) for c < k by the CTA's threads (Out: uint16_t BF16 bits or uint8_t e4m3 bits).
template <typename Out, class Ops, typename Convert>
CORE_FN void convert_row(const float* row, Out* dst, int k, Convert convert) {
    const int tid = Ops::thread();
    if ((k & 3) == 0) {
#pragma unroll 4
        for (int q = tid; q < k / 4; q += THREADS) {
            float v[4];
            Ops::load4(row + 4 * q, v);
            const Out out[4] = {convert(v[0]), convert(v[1]), convert(v[2]), convert(v[3])};
            Ops::store4(dst + 4 * q, out);
        }
    } else {
        for (int c = tid; c < k; c += THREADS) dst[c] = convert(row[c]);
    }
}

template <class Ops>
CORE_FN void bf16(const float* x, uint16_t* out, int k, int64_t stride) {
    const int r = Ops::block_x();
    convert_row<uint16_t, Ops>(x + static_cast<int64_t>(r) * k, out + r * stride, k,
                               [](float v) { return Ops::to_bf16(v); });
}

template <class Ops>
CORE_FN void e4m3(const float* x, uint8_t* out, int k, int64_t stride, float scale) {
    const int r = Ops::block_x();
    convert_row<uint8_t, Ops>(x + static_cast<int64_t>(r) * k, out + r * stride, k,
                              [scale](float v) { return Ops::to_e4m3(Ops::div(v, scale)); });
}

template <class Ops>
CORE_FN void e4m3_rows(const float* x, uint8_t* out, float* row_scales, int k, int64_t stride) {
    const int r = Ops::block_x(), tid = Ops::thread(), lane = tid % 32, warp = tid / 32;
    const float* row = x + static_cast<int64_t>(r) * k;
    float amax = 0.0f;
    if ((k & 3) == 0) {
#pragma unroll 4
        for (int q = tid; q < k / 4; q += THREADS) {
            float v[4];
            Ops::load4(row + 4 * q, v);
            for (int i = 0; i < 4; i++) amax = Ops::max(amax, Ops::abs(v[i]));
        }
    } else {
        for (int c = tid; c < k; c += THREADS) amax = Ops::max(amax, Ops::abs(row[c]));
    }
    // the CTA's maximum: over each warp, then over the warps' partials in shared memory
    float* partial = reinterpret_cast<float*>(Ops::shared());
    for (int offset = 16; offset > 0; offset >>= 1) amax = Ops::max(amax, Ops::shfl_xor(amax, offset));
    if (lane == 0) partial[warp] = amax;
    Ops::sync();
    amax = partial[0];
    for (int w = 1; w < THREADS / 32; w++) amax = Ops::max(amax, partial[w]);
    const float scale = amax > 0.0f ? amax / E4M3_MAX : 1.0f;
    convert_row<uint8_t, Ops>(row, out + r * stride, k, [scale](float v) { return Ops::to_e4m3(Ops::div(v, scale)); });
    if (tid == 0) row_scales[r] = scale;
}

}  // namespace tramontane::gemm_input
