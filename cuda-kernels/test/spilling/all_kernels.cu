// Fixture for SpillCheckTest (src/test/java/io/tramontane/backend/cuda): a kernel that must spill, to prove
// that build.sh fails when a HOT_KERNEL does. __launch_bounds__(1024, 2) caps it at 32 registers per thread
// (two blocks of 1024 threads share the SM's 64K registers) while it keeps 64 accumulators live in a loop.
#define KERNEL extern "C" __global__
#define HOT_KERNEL extern "C" __global__

HOT_KERNEL void __launch_bounds__(1024, 2) spills(const float* __restrict__ x, float* y, int n) {
    float acc[64];
#pragma unroll
    for (int j = 0; j < 64; j++) acc[j] = x[j * blockDim.x + threadIdx.x];
    for (int k = 0; k < n; k++) {
#pragma unroll
        for (int j = 0; j < 64; j++) acc[j] = fmaf(acc[j], acc[(j + 1) & 63], x[k]);
    }
    float sum = 0.0f;
#pragma unroll
    for (int j = 0; j < 64; j++) sum += acc[j];
    y[threadIdx.x] = sum;
}
