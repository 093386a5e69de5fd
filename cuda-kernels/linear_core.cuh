// The decode gemv's body (y[m, n] = scale * x[m, k] w[n, k]^T for m <= 8 tokens, FP32 activations, weights F32, BF16
// or FP8 e4m3 decoded in registers, FP32 accumulation), written once against an `Ops` type that supplies the
// hardware: the thread's coordinates, dynamic shared memory, __syncthreads, warp shuffle, 16-byte asynchronous
// copies global -> shared (cp.async with commit and wait groups), float4 loads and the e4m3 conversion. linear.cu
// instantiates it with LinearDeviceOps as linear_gemv_<format>; test/attention_emulator.cpp with its emulated warps
// (LinearEmulationTest).
//
// Why a ring: a decode step reads every weight once. The plain form (load four chunks into registers, wait, compute,
// repeat) leaves each warp idle for a full memory latency per group: e4m3 layers ran at 17-36% of the read bandwidth
// on an H200 (docs/gpu-log.md). Here each thread streams its chunks through its own slots of a shared-memory ring with
// cp.async: L::S - 1 stages are in flight while one is read, across row boundaries, as the block walks its rows; no
// thread reads another's slots, so cp.async.wait_group alone orders the ring. The other half of the cost is x: every
// weight needs its x element from L1, and the ring's shared memory shrinks L1, so a warp streams several rows side by
// side and each x load feeds all of them (4 rows: gate/up 1.38x over 2, measured).
//
// Layout: blocks of GEMV_WARPS warps; each warp streams L::R rows side by side (one x load feeds them all)
// over its share of the columns: a row's 16-byte chunks are split over `parts` warps (more for narrow layers, so that
// enough warps stream), lane l of part p taking chunks p * 32 + l + j * 32 * parts. A block covers units of
// GEMV_WARPS / parts * L::R rows, unit blockIdx.x, then + gridDim.x, ...; grid.y covers the tokens, 4
// at a time. Weight rows are padded with zeros to a multiple of 16 bytes (`stride` elements).
//
// Summation order (that of the plain gemv it replaced, bit for bit up to the sign of a zero sum; the same for every
// Layout): per lane, per token, the products in column order over its chunks; then a butterfly over the warp; then
// the parts in order.
#pragma once
#include <cstdint>

#include "core_prelude.cuh"

namespace tramontane::linear {

constexpr int WARP = 32;
constexpr int GEMV_WARPS = 8, GEMV_THREADS = GEMV_WARPS * WARP;
constexpr int GEMV_TOKENS = 4;  // tokens per block; grid.y covers the rest

// The ring's shape: rows a warp streams side by side, 16-byte chunks of each row per lane per stage, stages of each
// thread's ring. Production: 4, 1, 4 (GemvLayout.java has the same numbers and the timed alternatives).
template <int ROWS, int CHUNKS, int STAGES>
struct Layout {
    static constexpr int R = ROWS, C = CHUNKS, S = STAGES;
    // the ring: [stage][row of the warp][chunk][thread] 16-byte slots (a warp's 32 slots are 512 contiguous bytes)
    static CORE_CONSTEXPR int ring_bytes() { return S * R * C * GEMV_THREADS * 16; }
    // then the parts' partial sums of the last two units: [2][warp][row of the warp][token] floats
    static CORE_CONSTEXPR int smem_bytes() { return ring_bytes() + 2 * GEMV_WARPS * R * GEMV_TOKENS * 4; }
};
using Production = Layout<4, 1, 4>;

// Quad q (four consecutive weights) of a 16-byte chunk of T (float, BF16 bits, e4m3 bits), decoded to FP32.
template <typename T, class Ops>
CORE_FN void decode_quad(const uint32_t (&raw)[4], int q, float (&out)[4]) {
    if constexpr (sizeof(T) == 4) {
#pragma unroll
        for (int i = 0; i < 4; i++) out[i] = Ops::as_float(raw[i]);
    } else if constexpr (sizeof(T) == 2) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            out[2 * i] = Ops::as_float(raw[2 * q + i] << 16);
            out[2 * i + 1] = Ops::as_float(raw[2 * q + i] & 0xffff0000u);
        }
    } else {
        Ops::e4m3x2(raw[q], out[0], out[1]);
        Ops::e4m3x2(raw[q] >> 16, out[2], out[3]);
    }
}

// One chunk position (first column k0) of the warp's rows into acc[row][token]: each x quad is loaded once for all
// rows. Columns past k (the padding of the last chunk) are skipped, not multiplied by zero.
template <typename T, int R, class Ops>
CORE_FN void accumulate(const uint32_t (&raw)[R][4], const float* __restrict__ xs, int k, int k0, int tokens,
                          float (&acc)[R][GEMV_TOKENS]) {
    constexpr int V = 16 / sizeof(T);
#pragma unroll
    for (int q = 0; q < V / 4; q++) {
        const int c = k0 + 4 * q;
        float wq[R][4];
#pragma unroll
        for (int r = 0; r < R; r++) decode_quad<T, Ops>(raw[r], q, wq[r]);
        const bool whole = (k & 3) == 0 && c + 4 <= k;  // rows of x start on 16 bytes: one float4
#pragma unroll
        for (int t = 0; t < GEMV_TOKENS; t++) {
            if (t >= tokens) break;
            const float* xt = xs + static_cast<int64_t>(t) * k + c;
            float xv[4];
            if (whole) {
                Ops::load4(xt, xv);
            } else {
#pragma unroll
                for (int e = 0; e < 4; e++) xv[e] = c + e < k ? xt[e] : 0.0f;
            }
#pragma unroll
            for (int r = 0; r < R; r++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    if (whole || c + e < k) acc[r][t] = Ops::fma(wq[r][e], xv[e], acc[r][t]);
                }
            }
        }
    }
}

template <class Ops>
CORE_FN float warp_sum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += Ops::shfl_xor(v, offset);
    return v;
}

// grid = (blocks, ceil(m / GEMV_TOKENS)), block = GEMV_THREADS, L::smem_bytes() of dynamic shared memory;
// parts in {1, 2, 4, 8} (GemvLayout.parts). Up to three weights that share x (q, k and v; gate and up) run in one
// launch: weight s is w_s [n_s, k] into y_s [m, n_s] times scale_s (n_s = 0: absent), all with `stride`; the row
// units of weight 0 come first, then those of 1 and 2, so a unit lies in one weight.
template <typename T, class L, class Ops>
CORE_FN void gemv(const float* __restrict__ x, int64_t stride, int m, int k, int parts, const T* w0, float* y0, int n0,
                    float scale0, const T* w1, float* y1, int n1, float scale1, const T* w2, float* y2, int n2,
                    float scale2) {
    constexpr int V = 16 / sizeof(T), R = L::R, C = L::C, S = L::S;
    unsigned char* smem = Ops::shared();
    float* partial = reinterpret_cast<float*>(smem + L::ring_bytes());
    const int tid = Ops::thread(), lane = tid % WARP, warp = tid / WARP;
    const int part = warp % parts, slot = warp / parts;  // warps slot * parts + [0, parts) share the slot's rows
    const int unit_rows = GEMV_WARPS / parts * R;
    const int units0 = (n0 + unit_rows - 1) / unit_rows, units01 = units0 + (n1 + unit_rows - 1) / unit_rows;
    const int units = units01 + (n2 + unit_rows - 1) / unit_rows;
    struct Rows {  // where a unit's rows are: its weight, output, row count, scale and first row
        const T* w;
        float* y;
        int n;
        float scale;
        int row0;
    };
    auto rows_of = [&](int unit) {
        return unit < units0    ? Rows{w0, y0, n0, scale0, unit * unit_rows}
               : unit < units01 ? Rows{w1, y1, n1, scale1, (unit - units0) * unit_rows}
                                : Rows{w2, y2, n2, scale2, (unit - units01) * unit_rows};
    };
    const int first_unit = Ops::block_x(), unit_step = Ops::grid_x();
    const int my_units = first_unit < units ? (units - first_unit + unit_step - 1) / unit_step : 0;
    const int t0 = Ops::block_y() * GEMV_TOKENS, tokens = m - t0 < GEMV_TOKENS ? m - t0 : GEMV_TOKENS;
    const int chunks = (k + V - 1) / V, step = WARP * parts;
    const int groups = ((chunks + step - 1) / step + C - 1) / C;  // ring stages per row
    const int total = my_units * groups;                           // the same for every thread of the block
    const float* xs = x + static_cast<int64_t>(t0) * k;
    auto ring = [&](int stage, int r, int c) {
        return smem + ((((stage * R + r) * C + c) * GEMV_THREADS) + tid) * 16;
    };
    // copies stage i (the block's i-th group: unit i / groups, group i % groups) into ring stage i % S; always one
    // commit, so that wait_group counts stages
    auto issue = [&](int i) {
        if (i < total) {
            const Rows at = rows_of(first_unit + (i / groups) * unit_step);
            const int g = i % groups;
#pragma unroll
            for (int r = 0; r < R; r++) {
                const int row = at.row0 + slot * R + r;
#pragma unroll
                for (int c = 0; c < C; c++) {
                    const int chunk = part * WARP + lane + (g * C + c) * step;
                    const bool valid = row < at.n && chunk < chunks;
                    const T* src =
                        valid ? at.w + static_cast<int64_t>(row) * stride + static_cast<int64_t>(chunk) * V : w0;
                    Ops::cp_async16(ring(i % S, r, c), src, valid);
                }
            }
        }
        Ops::cp_async_commit();
    };

    for (int i = 0; i < S - 1; i++) issue(i);
    float acc[R][GEMV_TOKENS] = {};
    int parity = 0;
    for (int i = 0; i < total; i++) {
        Ops::template cp_async_wait<S - 2>();  // stage i has landed; S - 2 later ones may be in flight
        issue(i + S - 1);                      // into the stage this thread read last iteration
        const int g = i % groups;
#pragma unroll
        for (int c = 0; c < C; c++) {
            const int chunk = part * WARP + lane + (g * C + c) * step;
            if (chunk < chunks) {
                uint32_t raw[R][4];
#pragma unroll
                for (int r = 0; r < R; r++) Ops::load16_shared(ring(i % S, r, c), raw[r]);
                accumulate<T, R, Ops>(raw, xs, k, chunk * V, tokens, acc);
            }
        }
        if (g != groups - 1) continue;
        // the unit's rows are complete: reduce, write, start the next unit from zero
        const Rows at = rows_of(first_unit + (i / groups) * unit_step);
        const int row0 = at.row0 + slot * R, n = at.n;
        float* y = at.y;
        const float scale = at.scale;
        if (parts == 1) {
#pragma unroll
            for (int r = 0; r < R; r++) {
#pragma unroll
                for (int t = 0; t < GEMV_TOKENS; t++) {
                    const float sum = warp_sum<Ops>(acc[r][t]);
                    if (lane == t && t < tokens && row0 + r < n) {
                        y[static_cast<int64_t>(t0 + t) * n + row0 + r] = sum * scale;
                    }
                    acc[r][t] = 0.0f;
                }
            }
        } else {
            float* mine = partial + (parity * GEMV_WARPS + warp) * R * GEMV_TOKENS;
#pragma unroll
            for (int r = 0; r < R; r++) {
#pragma unroll
                for (int t = 0; t < GEMV_TOKENS; t++) {
                    const float sum = warp_sum<Ops>(acc[r][t]);
                    if (lane == 0) mine[r * GEMV_TOKENS + t] = sum;
                    acc[r][t] = 0.0f;
                }
            }
            // one barrier per unit: the partials alternate between two halves, so a half is rewritten only after
            // the next barrier, which its readers reach after reading it
            Ops::sync();
            if (part == 0 && lane < tokens) {
                const float* slot_partials = partial + (parity * GEMV_WARPS + slot * parts) * R * GEMV_TOKENS;
                for (int r = 0; r < R; r++) {
                    if (row0 + r >= n) break;
                    float sum = 0.0f;
                    for (int p = 0; p < parts; p++) sum += slot_partials[(p * R + r) * GEMV_TOKENS + lane];
                    y[static_cast<int64_t>(t0 + lane) * n + row0 + r] = sum * scale;
                }
            }
            parity ^= 1;
        }
    }
    Ops::template cp_async_wait<0>();  // the trailing groups are empty; nothing is left in flight at exit
}

}  // namespace tramontane::linear
