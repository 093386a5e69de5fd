// The Hopper tensor-core GEMM (body in gemm_sm90_core.cuh, launched by TensorCoreGemm.java) and the kernels that
// prepare its input: y[m, n] = scale * row_scale[m] * x[m, k] w[n, k]^T with x and w both BF16 or both FP8 e4m3.
//  - gemm_input_bf16: FP32 activations -> BF16 (round to nearest even) into 16-byte padded rows;
//  - gemm_input_e4m3: FP32 -> e4m3(x / scale) with the checkpoint's static activation scale (w8a8), as CpuBackend;
//  - gemm_input_e4m3_rows: FP32 -> e4m3 with one dynamic scale per row (max |x| / 448), for FP8 linears without an
//    activation scale; the row scales are folded into the GEMM's epilogue (the three bodies: gemm_input_core.cuh);
//  - gemm_sm90_bf16 / gemm_sm90_e4m3: TMA + mbarrier pipeline + wgmma. Their bodies exist only in the sm_90a
//    image (__CUDA_ARCH_FEAT_SM90_ALL: wgmma exists on sm_90a alone); on sm_100a and in
//    the compute_90 PTX they are empty stubs that trap, and TensorCoreGemm selects them on compute capability 9.0
//    only (sm_100 keeps linear_gemm_<format> until it gets a tcgen05 kernel).
#include "common.cuh"
#include "gemm_input_core.cuh"
#include "gemm_sm90_core.cuh"

#include <cuda.h>  // CUtensorMap

namespace {
namespace tc = tramontane::gemm;

namespace input = tramontane::gemm_input;

extern __shared__ __align__(16) unsigned char gemm_smem[];  // rounded up to 1024 bytes by the body

#define GEMM_ACC_REGISTERS \
    "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
    "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
    "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
    "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define GEMM_ACC_OPERANDS(d) \
    "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
    "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
    "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
    "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
    "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
    "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
    "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
    "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])

// The hardware the body runs on: inline PTX (test/gemm_emulator.cpp models each instruction on the host).
// Input: 2 for BF16 (wgmma m64n128k16 .bf16), 1 for e4m3 (m64n128k32 .e4m3).
template <int INPUT_BYTES>
struct GemmDeviceOps : tramontane::DeviceOpsBase {
    using TensorMap = CUtensorMap;
    static constexpr int ELEMENT_BYTES = INPUT_BYTES;
    static __device__ __forceinline__ int element_bytes() { return INPUT_BYTES; }
    static __device__ __forceinline__ unsigned char* shared() { return gemm_smem; }
    static __device__ __forceinline__ uint32_t shared_address(const void* p) {
        return static_cast<uint32_t>(__cvta_generic_to_shared(p));
    }
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    static __device__ __forceinline__ void barrier_init(uint64_t* bar, int count) {
        asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(shared_address(bar)), "r"(count) : "memory");
    }
    static __device__ __forceinline__ void barrier_init_fence() {
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    static __device__ __forceinline__ void arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
        asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(shared_address(bar)), "r"(bytes)
                     : "memory");
    }
    static __device__ __forceinline__ void arrive(uint64_t* bar) {
        asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(shared_address(bar)) : "memory");
    }
    static __device__ __forceinline__ void wait(uint64_t* bar, int parity) {
        asm volatile(
            "{\n"
            ".reg .pred done;\n"
            "WAIT_%=:\n"
            "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
            "@!done bra WAIT_%=;\n"
            "}\n" ::"r"(shared_address(bar)),
            "r"(parity)
            : "memory");
    }
    // A box of the tensor map at element coordinates (c0 along the row, c1 = row) into shared memory; completes
    // its bytes on `bar`.
    static __device__ __forceinline__ void tma_load(void* dst, const CUtensorMap& map, int c0, int c1, uint64_t* bar) {
        asm volatile(
            "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
            ::"r"(shared_address(dst)), "l"(reinterpret_cast<uint64_t>(&map)), "r"(c0), "r"(c1), "r"(shared_address(bar))
            : "memory");
    }
    static __device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
    static __device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
    template <int PENDING>
    static __device__ __forceinline__ void wgmma_wait() {
        asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(PENDING) : "memory");
    }
    // An empty asm that reads and writes every accumulator: the compiler cannot move their uses across it (the
    // wgmma asm statements' "+f" operands alone do not order later plain reads after wgmma.wait_group).
    static __device__ __forceinline__ void fence_accumulators(float (&d)[tc::ACCUMULATORS]) {
#pragma unroll
        for (int i = 0; i < tc::ACCUMULATORS; i++) asm volatile("" : "+f"(d[i])::"memory");
    }
    // d += A B^T for A 64 x k16|k32 (x rows) and B 128 x k16|k32 (w rows), both K-major in shared memory.
    static __device__ __forceinline__ void wgmma(float (&d)[tc::ACCUMULATORS], uint64_t a, uint64_t b) {
        if constexpr (INPUT_BYTES == 2) {
            asm volatile(
                "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
                GEMM_ACC_REGISTERS
                "}, %64, %65, 1, 1, 1, 0, 0;\n"
                : GEMM_ACC_OPERANDS(d)
                : "l"(a), "l"(b)
                : "memory");
        } else {
            asm volatile(
                "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 {"
                GEMM_ACC_REGISTERS
                "}, %64, %65, 1, 1, 1;\n"
                : GEMM_ACC_OPERANDS(d)
                : "l"(a), "l"(b)
                : "memory");
        }
    }
#endif
};

template <int INPUT_BYTES>
__device__ __forceinline__ void run_gemm_sm90(const CUtensorMap& x_map, const CUtensorMap& w_map, float* y,
                                    const float* row_scales, int m, int n, int k, float scale) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    tc::gemm<GemmDeviceOps<INPUT_BYTES>>(x_map, w_map, y, row_scales, m, n, k, scale);
#else
    __trap();  // not an sm_90a image: the Java side never selects this kernel here
#endif
}

// The hardware the input conversions run on (test/attention_emulator.cpp has the host emulation of each).
struct InputDeviceOps : tramontane::DeviceOpsBase {
    static __device__ __forceinline__ unsigned char* shared() { return gemm_smem; }
    static __device__ __forceinline__ float div(float a, float b) { return __fdiv_rn(a, b); }
    static __device__ __forceinline__ float max(float a, float b) { return fmaxf(a, b); }
    static __device__ __forceinline__ float abs(float a) { return fabsf(a); }
    static __device__ __forceinline__ void store4(uint16_t* dst, const uint16_t (&v)[4]) {
        *reinterpret_cast<uint2*>(dst) = make_uint2(v[0] | static_cast<uint32_t>(v[1]) << 16, v[2] | static_cast<uint32_t>(v[3]) << 16);
    }
    static __device__ __forceinline__ void store4(uint8_t* dst, const uint8_t (&v)[4]) {
        *reinterpret_cast<uint32_t*>(dst) = v[0] | v[1] << 8 | v[2] << 16 | static_cast<uint32_t>(v[3]) << 24;
    }
};
}  // namespace

HOT_KERNEL void __launch_bounds__(tc::THREADS, 1) gemm_sm90_bf16(
    const __grid_constant__ CUtensorMap x_map, const __grid_constant__ CUtensorMap w_map, float* y, const float* row_scales,
    int m, int n, int k, float scale) {
    run_gemm_sm90<2>(x_map, w_map, y, row_scales, m, n, k, scale);
}

HOT_KERNEL void __launch_bounds__(tc::THREADS, 1) gemm_sm90_e4m3(
    const __grid_constant__ CUtensorMap x_map, const __grid_constant__ CUtensorMap w_map, float* y, const float* row_scales,
    int m, int n, int k, float scale) {
    run_gemm_sm90<1>(x_map, w_map, y, row_scales, m, n, k, scale);
}

// grid = m rows, block = input::THREADS, input::smem_bytes() of dynamic shared memory (bodies in gemm_input_core.cuh).
HOT_KERNEL void __launch_bounds__(input::THREADS) gemm_input_bf16(const float* __restrict__ x, uint16_t* __restrict__ out,
                                                                 int k, int64_t stride) {
    input::bf16<InputDeviceOps>(x, out, k, stride);
}
HOT_KERNEL void __launch_bounds__(input::THREADS) gemm_input_e4m3(const float* __restrict__ x, uint8_t* __restrict__ out,
                                                                 int k, int64_t stride, float scale) {
    input::e4m3<InputDeviceOps>(x, out, k, stride, scale);
}
HOT_KERNEL void __launch_bounds__(input::THREADS) gemm_input_e4m3_rows(const float* __restrict__ x, uint8_t* __restrict__ out,
                                                                      float* __restrict__ row_scales, int k, int64_t stride) {
    input::e4m3_rows<InputDeviceOps>(x, out, row_scales, k, stride);
}
