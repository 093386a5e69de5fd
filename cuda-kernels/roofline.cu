// Device probes for the GPU check's timing lines (KernelChecks): what the memory system delivers to a kernel that
// does nothing but read, the floor the decode attention's bytes are measured against.
#include "common.cuh"

// Streams `words` 16-byte words once (coalesced, four independent loads in flight per thread, evict-first) and
// xors them into *sink, so the loads cannot be optimised away. grid-stride: any grid covers the buffer.
HOT_KERNEL void __launch_bounds__(256) read_bandwidth(const uint4* __restrict__ data, int64_t words,
                                                      unsigned int* __restrict__ sink) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    uint32_t acc = 0;
    for (; i + 3 * stride < words; i += 4 * stride) {
        const uint4 a = __ldcs(data + i), b = __ldcs(data + i + stride), c = __ldcs(data + i + 2 * stride),
                    d = __ldcs(data + i + 3 * stride);
        acc ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w ^ c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^ d.w;
    }
    for (; i < words; i += stride) {
        const uint4 a = __ldcs(data + i);
        acc ^= a.x ^ a.y ^ a.z ^ a.w;
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) acc ^= __shfl_xor_sync(0xffffffffu, acc, offset);
    if ((threadIdx.x & 31) == 0) atomicXor(sink, acc);
}
