// On-device sampling (body in sampling_core.cuh, launched by SamplingKernels.java): sample_rows draws one token per
// row of logits, exactly as io.tramontane.sampling.TokenDraw does on the host, so a decode step returns only ids.
#include "common.cuh"
#include "sampling_core.cuh"

namespace {
namespace smp = tramontane::sampling;

extern __shared__ __align__(16) unsigned char sampling_smem[];

// The hardware the body runs on (test/attention_emulator.cpp has the host emulation of each).
struct SamplingOps : tramontane::DeviceOpsBase {
    static __device__ __forceinline__ unsigned char* shared() { return sampling_smem; }
    static __device__ __forceinline__ void atomic_add(unsigned long long* p, unsigned long long v) { atomicAdd(p, v); }
    static __device__ __forceinline__ void atomic_add(unsigned int* p, unsigned int v) { atomicAdd(p, v); }
    static __device__ __forceinline__ unsigned match_any(unsigned v) { return __match_any_sync(0xffffffffu, v); }
    static __device__ __forceinline__ unsigned reduce_add(unsigned peers, unsigned v) { return __reduce_add_sync(peers, v); }
    static __device__ __forceinline__ bool lowest_lane(unsigned peers) { return (threadIdx.x & 31) == __ffs(peers) - 1; }
    static __device__ __forceinline__ int popcount(unsigned v) { return __popc(v); }
};
}  // namespace

// At least one CTA per SM, stated: left to itself, ptxas for sm_100a aimed at more and spilled at 40 registers.
HOT_KERNEL void __launch_bounds__(smp::THREADS, 1) sample_rows(const float* logits, int vocab, int stride,
                                                            const double* params, int* tokens) {
    smp::sample_rows<SamplingOps>(logits, vocab, stride, params, tokens);
}
