// The Hopper tensor-core GEMM's body: y[m, n] = scale * row_scale[m] * x[m, k] w[n, k]^T, x and w in BF16 or
// FP8 e4m3 (both K-major), FP32 accumulation and output. Written once against an `Ops` type that supplies the
// hardware (TMA, mbarriers, wgmma): gemm_sm90.cu instantiates it with inline PTX for sm_90a, and
// test/gemm_emulator.cpp with a host model of those instructions taken from the PTX ISA, so the tile, pipeline
// and descriptor arithmetic is tested without a GPU (GemmEmulationTest).
//
// One CTA computes a BLOCK_M x BLOCK_N tile of y with three warpgroups:
//  - warpgroup 0, the producer: one thread issues, per k-tile, two TMA loads (x rows m0.., w rows n0.., 128 bytes
//    of k each, 128-byte swizzled) into the next free stage of a STAGES-deep ring and arms the stage's `full`
//    mbarrier with the bytes to expect;
//  - warpgroups 1 and 2, the consumers: each waits for a stage to be full, issues 4 wgmma m64n128 on its 64 rows of
//    the x tile and the whole w tile (32 bytes of k each), and hands the stage before it back to the producer
//    (`empty` mbarrier) once wgmma.wait_group 1 says that stage's wgmmas are done; then writes its 64x128 FP32
//    accumulator tile to y with the scales and bounds checks.
// TMA fills rows past m or n and columns past k with zeros, so odd shapes need no special path until the stores.
//
// Tile choice (prefill shapes, M >= 2048, N and K of 1024..32768): 128x128 outputs per CTA keep 64 FP32
// accumulators per consumer thread (a 384-thread CTA may use 168 registers each: no spills); a stage is 16 KiB of x
// plus 16 KiB of w, so 6 stages (192 KiB) cover TMA latency within the 227 KiB an H100 CTA may use; one CTA per SM.
// 128 bytes of k per stage is exactly one 128-byte swizzle row: 64 BF16 or 128 FP8 elements.
#pragma once
#include <cstdint>

#include "core_prelude.cuh"

namespace tramontane::gemm {

constexpr int BLOCK_M = 128, BLOCK_N = 128;
constexpr int BLOCK_K_BYTES = 128;                                 // one 128-byte swizzle row of k per stage
constexpr int STAGES = 6;
constexpr int CONSUMERS = 2;                                       // warpgroups of 64 rows each
constexpr int WARPGROUP = 128, THREADS = WARPGROUP * (1 + CONSUMERS);
constexpr int CONSUMER_WARPS = CONSUMERS * WARPGROUP / 32;         // each arrives on `empty` once per stage
constexpr int WGMMA_M = 64, WGMMA_K_BYTES = 32;                    // m64n128k16 (BF16) and m64n128k32 (e4m3)
constexpr int ACCUMULATORS = WGMMA_M * BLOCK_N / WARPGROUP;        // FP32 per consumer thread: 64
constexpr int X_TILE_BYTES = BLOCK_M * BLOCK_K_BYTES, W_TILE_BYTES = BLOCK_N * BLOCK_K_BYTES;
constexpr int STAGE_BYTES = X_TILE_BYTES + W_TILE_BYTES;
constexpr int SWIZZLE_ATOM_BYTES = 1024;                           // 8 rows of 128 bytes, the swizzle's period
// Dynamic shared memory: the stages (1024-byte aligned, as the swizzle requires), then the mbarriers; the base
// is rounded up to 1024 bytes at run time, hence the slack. GemmKernels.java has the same formula.
CORE_CONSTEXPR int smem_bytes() { return STAGES * STAGE_BYTES + 2 * STAGES * 8 + SWIZZLE_ATOM_BYTES; }

// A wgmma shared-memory matrix descriptor (PTX ISA "Matrix Descriptor Format") for a K-major operand whose rows
// are 128 bytes, 128-byte swizzled, 8-row swizzle atoms stacked 1024 bytes apart: start address >> 4 (bits 0-13),
// leading-dimension byte offset >> 4 (bits 16-29, unused for swizzled K-major layouts: 1), stride-dimension byte
// offset >> 4 (bits 32-45: 1024 between 8-row groups), base offset 0 (bits 49-51: atoms are 1024-byte aligned),
// swizzle mode 1 = 128B (bits 62-63).
CORE_CONSTEXPR uint64_t descriptor(uint32_t shared_address) {
    return static_cast<uint64_t>((shared_address & 0x3ffff) >> 4) | (1ull << 16) |
           (static_cast<uint64_t>(SWIZZLE_ATOM_BYTES >> 4) << 32) | (1ull << 62);
}

// grid = (ceil(m / BLOCK_M), ceil(n / BLOCK_N)), block = THREADS, dynamic shared memory = smem_bytes(). Row tiles
// vary fastest: the CTAs resident at once cover all of m for a few weight tiles, so each weight tile is read from
// memory about once and served to the other row tiles from L2 (the activations, 10-40 MB at prefill, stay in L2).
// x_map: [m, k] elements of the input type (16-byte padded rows), box BLOCK_K_BYTES x BLOCK_M; w_map: [n, k], box
// BLOCK_K_BYTES x BLOCK_N; both 128-byte swizzled with zero fill. row_scales: null or one factor per row of x.
template <class Ops>
CORE_FN void gemm(const typename Ops::TensorMap& x_map, const typename Ops::TensorMap& w_map, float* y,
                  const float* row_scales, int m, int n, int k, float scale) {
    unsigned char* raw = Ops::shared();
    unsigned char* smem = raw + ((SWIZZLE_ATOM_BYTES - (Ops::shared_address(raw) & (SWIZZLE_ATOM_BYTES - 1))) &
                                 (SWIZZLE_ATOM_BYTES - 1));
    uint64_t* full = reinterpret_cast<uint64_t*>(smem + STAGES * STAGE_BYTES);
    uint64_t* empty = full + STAGES;
    const int tid = Ops::thread(), warpgroup = tid / WARPGROUP;
    const int m0 = Ops::block_x() * BLOCK_M, n0 = Ops::block_y() * BLOCK_N;
    const int k_tiles = (k * Ops::element_bytes() + BLOCK_K_BYTES - 1) / BLOCK_K_BYTES;
    const int k_tile_elements = BLOCK_K_BYTES / Ops::element_bytes();

    if (tid == 0) {
        for (int s = 0; s < STAGES; s++) {
            Ops::barrier_init(full + s, 1);
            Ops::barrier_init(empty + s, CONSUMER_WARPS);
        }
        Ops::barrier_init_fence();  // the inits are visible to TMA (the async proxy) and the other threads
    }
    Ops::sync();

    if (warpgroup == 0) {
        if (tid != 0) return;
        for (int t = 0; t < k_tiles; t++) {
            const int s = t % STAGES;
            if (t >= STAGES) Ops::wait(empty + s, (t / STAGES - 1) & 1);  // the consumers released round t/STAGES-1
            unsigned char* x_tile = smem + s * STAGE_BYTES;
            Ops::arrive_expect_tx(full + s, STAGE_BYTES);
            Ops::tma_load(x_tile, x_map, t * k_tile_elements, m0, full + s);
            Ops::tma_load(x_tile + X_TILE_BYTES, w_map, t * k_tile_elements, n0, full + s);
        }
        return;
    }

    const int consumer = warpgroup - 1, lane = tid & 31, warp = (tid % WARPGROUP) / 32;
    float acc[ACCUMULATORS];
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = 0.0f;
    // FP8 wgmma adds its products into the accumulator with fewer bits than FP32 (about 14: DeepSeek-V3's
    // report, and cuBLASLt's default of promoting): over a k of thousands that drifts by ~1e-2. So each k-tile
    // (128 elements) is accumulated in a zeroed register tile and added to the FP32 total by the CUDA cores. The
    // wait for the tile's wgmmas costs this warpgroup its overlap between tiles; the other consumer keeps the
    // tensor cores busy meanwhile. BF16 accumulates in FP32 on the tensor cores and keeps the pipelined wait.
    constexpr bool PROMOTE = Ops::ELEMENT_BYTES == 1;
    float tile_acc[PROMOTE ? ACCUMULATORS : 1];
    for (int t = 0; t < k_tiles; t++) {
        const int s = t % STAGES;
        Ops::wait(full + s, (t / STAGES) & 1);
        const uint32_t x_rows = Ops::shared_address(smem + s * STAGE_BYTES + consumer * WGMMA_M * BLOCK_K_BYTES);
        const uint32_t w_rows = Ops::shared_address(smem + s * STAGE_BYTES + X_TILE_BYTES);
        if constexpr (PROMOTE) {
            for (int i = 0; i < ACCUMULATORS; i++) tile_acc[i] = 0.0f;
            Ops::wgmma_fence();  // after the zeroing: wgmma reads accumulators the CUDA cores wrote
            for (int kk = 0; kk < BLOCK_K_BYTES / WGMMA_K_BYTES; kk++) {
                Ops::wgmma(tile_acc, descriptor(x_rows + kk * WGMMA_K_BYTES), descriptor(w_rows + kk * WGMMA_K_BYTES));
            }
            Ops::wgmma_commit();
            Ops::template wgmma_wait<0>();
            Ops::fence_accumulators(tile_acc);  // the adds read tile_acc after the wait
            if (lane == 0) Ops::arrive(empty + s);
            for (int i = 0; i < ACCUMULATORS; i++) acc[i] += tile_acc[i];
        } else {
            Ops::wgmma_fence();
            for (int kk = 0; kk < BLOCK_K_BYTES / WGMMA_K_BYTES; kk++) {
                // k advances inside the swizzled rows by moving the start address: the swizzle is a function of the
                // final address bits, so the atoms' 1024-byte alignment still holds
                Ops::wgmma(acc, descriptor(x_rows + kk * WGMMA_K_BYTES), descriptor(w_rows + kk * WGMMA_K_BYTES));
            }
            Ops::wgmma_commit();
            Ops::template wgmma_wait<1>();  // tile t-1's wgmmas are done reading their stage
            if (t > 0 && lane == 0) Ops::arrive(empty + (t - 1) % STAGES);
        }
    }
    Ops::template wgmma_wait<0>();
    Ops::fence_accumulators(acc);  // the epilogue's reads of acc stay after the wait

    // Accumulator fragment of m64nN (PTX ISA "Register Fragments" for wgmma D): warp w of the warpgroup holds rows
    // 16w + lane/4 (acc[4j], acc[4j+1]) and 16w + lane/4 + 8 (acc[4j+2], acc[4j+3]); columns 8j + 2(lane%4) + {0, 1}.
    for (int half = 0; half < 2; half++) {
        const int row = m0 + consumer * WGMMA_M + 16 * warp + lane / 4 + 8 * half;
        if (row >= m) continue;
        const float factor = row_scales == nullptr ? scale : scale * row_scales[row];
        float* y_row = y + static_cast<int64_t>(row) * n;
        for (int j = 0; j < BLOCK_N / 8; j++) {
            const int col = n0 + 8 * j + 2 * (lane % 4);
            const float a = acc[4 * j + 2 * half] * factor, b = acc[4 * j + 2 * half + 1] * factor;
            if (col + 1 < n && (n & 1) == 0) {
                Ops::store2(y_row + col, a, b);
            } else {
                if (col < n) y_row[col] = a;
                if (col + 1 < n) y_row[col + 1] = b;
            }
        }
    }
}

}  // namespace tramontane::gemm
