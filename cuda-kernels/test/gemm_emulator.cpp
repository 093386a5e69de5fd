// Runs the tensor-core GEMM of gemm_sm90_core.cuh on the host, for GemmEmulationTest (no GPU needed).
//
// The kernel body is the device code itself, instantiated with HostOps instead of gemm_sm90.cu's GemmDeviceOps: every
// CUDA thread of a CTA is a fiber (ucontext); fibers run in turn until they block (an mbarrier wait, __syncthreads,
// wgmma.wait_group) or complete an mbarrier phase by arriving (the threads it released then run before it goes on).
// The asynchronous hardware is modelled from the PTX ISA and the CUDA driver API documentation, not from the kernel:
//  - cp.async.bulk.tensor.2d (TMA): a box of box[1] rows x box[0] elements at element coordinates (c0, c1) of the
//    tensor map; elements outside the tensor read as zero (OOB fill none); the box is written row after row to the
//    destination and each byte lands at its 128-byte-swizzled shared address (address bits [4:6] ^= bits [7:9]),
//    then the bytes complete on the mbarrier. A copy lands at issue, one scheduling round later or three rounds
//    later, by CTA, so a read before the mbarrier wait sees poison (NaN) and a stage refilled while still read shows.
//  - mbarrier: a phase completes when its pending arrivals reach zero and its transaction count is zero (expect_tx
//    adds bytes, complete_tx subtracts them); try_wait.parity P succeeds once the phase of parity P has completed.
//  - wgmma.mma_async m64n128k16 (BF16) / m64n128k32 (e4m3): a warpgroup collective; operands are read from shared
//    memory through the matrix descriptors (start address, stride byte offset between 8-row groups, 128-byte
//    swizzle: K-major rows of 128 bytes in 8-row atoms) when the wait_group (a warpgroup collective) that covers the
//    wgmma runs, i.e. as late as the hardware may read them; D is distributed over the 128 threads by the PTX ISA's
//    accumulator fragment (thread 32w + 4g + q holds rows 16w + g and 16w + g + 8, columns 8j + 2q and 8j + 2q + 1
//    in d[4j .. 4j + 3]).
// Dynamic shared memory starts at shared address 16 (so the kernel's 1024-byte rounding is exercised) and is
// NaN-poisoned; buffers the Java side did not fill start poisoned; 256 guard bytes after every buffer and after shared
// memory must survive. Errors end the run with exit code 1.
//
// Input and output: emulated_device.h's, with the magic "TRAMGEM1" and a launch's parameters as
//   u32 count, { u32 size, size bytes }[count].
// A tensor-map parameter (128 bytes) is the test's encoding of cuTensorMapEncodeTiled's parameters:
//   "TMAP", u32 element bytes, u32 swizzle span bytes, u32 rank (2), u64 address, u64 dims[2], u64 row stride,
//   u32 box[2].
// Usage: gemm_emulator INPUT OUTPUT
#include "gemm_sm90_core.cuh"
#include "emulated_device.h"

#include <ucontext.h>

#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {
namespace tc = tramontane::gemm;

using namespace tramontane::emulator;

constexpr uint32_t SHARED_BASE = 16;  // the shared address of the first dynamic shared memory byte

struct EmulatedMap {
    int element_bytes = 0, swizzle_span = 0;
    uint64_t address = 0, dims[2] = {}, stride = 0;
    uint32_t box[2] = {};
};

EmulatedMap decode_map(const std::vector<unsigned char>& bytes) {
    if (bytes.size() != 128 || std::memcmp(bytes.data(), "TMAP", 4) != 0) fail("a tensor-map parameter is not a TMAP");
    EmulatedMap map;
    uint32_t rank;
    std::memcpy(&map.element_bytes, bytes.data() + 4, 4);
    std::memcpy(&map.swizzle_span, bytes.data() + 8, 4);
    std::memcpy(&rank, bytes.data() + 12, 4);
    std::memcpy(&map.address, bytes.data() + 16, 8);
    std::memcpy(map.dims, bytes.data() + 24, 16);
    std::memcpy(&map.stride, bytes.data() + 40, 8);
    std::memcpy(map.box, bytes.data() + 48, 8);
    if (rank != 2) fail("only rank-2 tensor maps are modelled");
    if (map.swizzle_span != 128) fail("only the 128-byte swizzle is modelled");
    return map;
}

// ---- CTAs of fibers

// 128-byte swizzle (CU_TENSOR_MAP_SWIZZLE_128B, wgmma swizzle mode 1): the 16-byte chunk index (address bits 4-6) is
// xor-ed with the 128-byte row index within the 1024-byte pattern (bits 7-9).
uint32_t swizzle128(uint32_t address) { return address ^ (((address >> 7) & 7u) << 4); }

struct Mbarrier {
    int count = 0, pending = 0, phase = 0;
    int64_t tx = 0;
};

struct TmaCopy {
    uint32_t dst;
    const EmulatedMap* map;
    int c0, c1;
    uint32_t barrier;
    uint64_t due;
};

struct WgmmaOp {
    uint64_t a = 0, b = 0;
    int group = 0, arrived = 0;
    bool done = false;
    float* acc[tc::WARPGROUP] = {};
};

struct Warpgroup {
    std::deque<WgmmaOp> ops;
    int wait_arrived = 0;
    uint64_t wait_generation = 0;
};

struct Fiber {
    ucontext_t context;
    int thread = 0;
    bool done = false;
    const char* blocked = nullptr;  // what it waits for, while it does
    int issued = 0, committed = 0;  // wgmmas and commit groups
};

struct Cta {
    int x = 0, y = 0, element_bytes = 0;
    size_t shared_bytes = 0;
    std::vector<unsigned char> shared;  // shared_bytes + GUARD
    std::map<uint32_t, Mbarrier> barriers;
    std::vector<TmaCopy> copies;
    std::vector<Warpgroup> warpgroups;
    std::vector<Fiber> fibers;
    int sync_arrived = 0;
    uint64_t sync_generation = 0, round = 0, progress = 0, tma_delay = 0;
};

Cta* cta = nullptr;
Fiber* current = nullptr;
ucontext_t scheduler;
std::function<void()> body;
std::vector<std::unique_ptr<char[]>> stacks;
constexpr size_t STACK = 128 * 1024;

void fiber_main() {
    body();
    current->done = true;
    cta->progress++;
    swapcontext(&current->context, &scheduler);
    fail("a finished thread was resumed");
}

// Gives the other fibers a turn; `what` names the wait (deadlock reports).
void yield(const char* what) {
    current->blocked = what;
    swapcontext(&current->context, &scheduler);
    current->blocked = nullptr;
}

unsigned char* shared_byte(uint32_t address, size_t n, const char* what) {
    if (address < SHARED_BASE || address - SHARED_BASE + n > cta->shared_bytes) {
        fail(std::string(what) + " outside the dynamic shared memory");
    }
    return cta->shared.data() + (address - SHARED_BASE);
}

uint32_t shared_address_of(const void* p) {
    const auto* c = static_cast<const unsigned char*>(p);
    if (c < cta->shared.data() || c > cta->shared.data() + cta->shared_bytes) fail("not a shared-memory pointer");
    return SHARED_BASE + static_cast<uint32_t>(c - cta->shared.data());
}

Mbarrier& barrier_at(uint32_t address, const char* what) {
    auto it = cta->barriers.find(address);
    if (it == cta->barriers.end()) fail(std::string(what) + " on an uninitialised mbarrier");
    return it->second;
}

// Completes the current phase once every arrival and every expected byte is in; true when it did.
bool complete_if_done(Mbarrier& bar) {
    if (bar.pending != 0 || bar.tx != 0) return false;
    bar.phase ^= 1;
    bar.pending = bar.count;
    cta->progress++;
    return true;
}

void land(const TmaCopy& copy) {
    const EmulatedMap& map = *copy.map;
    const uint32_t row_bytes = map.box[0] * map.element_bytes;
    for (uint32_t r = 0; r < map.box[1]; r++) {
        for (uint32_t c = 0; c < map.box[0]; c++) {
            const uint64_t col = static_cast<uint64_t>(copy.c0) + c, row = static_cast<uint64_t>(copy.c1) + r;
            unsigned char* dst = shared_byte(swizzle128(copy.dst + r * row_bytes + c * map.element_bytes),
                                             map.element_bytes, "TMA destination");
            if (copy.c0 < 0 || copy.c1 < 0 || col >= map.dims[0] || row >= map.dims[1]) {
                std::memset(dst, 0, map.element_bytes);
            } else {
                std::memcpy(dst, host_pointer(map.address + row * map.stride + col * map.element_bytes,
                                              map.element_bytes, "TMA source"),
                            map.element_bytes);
            }
        }
    }
    for (const auto& [address, bar] : cta->barriers) {
        if (address + 8 > copy.dst && address < copy.dst + row_bytes * map.box[1]) fail("TMA wrote over an mbarrier");
    }
    Mbarrier& bar = barrier_at(copy.barrier, "TMA complete_tx");
    bar.tx -= static_cast<int64_t>(row_bytes) * map.box[1];
    complete_if_done(bar);
}

void land_due() {
    std::vector<TmaCopy> later;
    for (const TmaCopy& copy : cta->copies) {
        if (copy.due <= cta->round) {
            land(copy);
        } else {
            later.push_back(copy);
        }
    }
    cta->copies = std::move(later);
}

float bf16_value(const unsigned char* p) {
    const uint32_t bits = static_cast<uint32_t>(p[0] | p[1] << 8) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// e4m3fn: 1 sign, 4 exponent (bias 7), 3 mantissa bits; exponent 0 subnormal; S.1111.111 NaN; no infinities.
float e4m3_value(unsigned char bits) {
    const int sign = bits >> 7, exponent = (bits >> 3) & 15, mantissa = bits & 7;
    if (exponent == 15 && mantissa == 7) return NAN;
    const float magnitude = exponent == 0 ? std::ldexp(mantissa / 8.0f, -6) : std::ldexp(1 + mantissa / 8.0f, exponent - 7);
    return sign ? -magnitude : magnitude;
}

// Element (row, k) of a K-major wgmma operand described by `desc` (PTX ISA "Matrix Descriptor Format" and the
// canonical K-major layouts): 8-row core-matrix groups `stride` bytes apart, rows of 128 bytes within a group,
// 128-byte swizzle applied to the final shared address.
float operand(uint64_t desc, int row, int k, int element_bytes) {
    const uint32_t start = static_cast<uint32_t>(desc & 0x3fff) << 4;
    const uint32_t stride = static_cast<uint32_t>((desc >> 32) & 0x3fff) << 4;
    const int base_offset = static_cast<int>((desc >> 49) & 7), mode = static_cast<int>(desc >> 62);
    if (mode != 1) fail("wgmma descriptor: only swizzle mode 1 (128B) is modelled, got " + std::to_string(mode));
    if (base_offset != 0 || ((start >> 7) & 7) != 0) fail("wgmma descriptor: a base offset is not modelled");
    const uint32_t k_byte = (start & 127) + static_cast<uint32_t>(k * element_bytes);
    if (k_byte >= 128) fail("wgmma descriptor: k crosses the 128-byte swizzle row");
    const uint32_t address = (start & ~127u) + (row / 8) * stride + (row % 8) * 128 + k_byte;
    const unsigned char* p = shared_byte(swizzle128(address), element_bytes, "wgmma operand");
    return element_bytes == 2 ? bf16_value(p) : e4m3_value(*p);
}

// D[64 x 128] += A[64 x K] B[128 x K]^T into the fragments of the warpgroup's 128 threads.
void execute(WgmmaOp& op) {
    const int eb = cta->element_bytes, k_elements = tc::WGMMA_K_BYTES / eb;
    for (int t = 0; t < tc::WARPGROUP; t++) {
        const int w = t / 32, g = (t % 32) / 4, q = t % 4;
        for (int i = 0; i < tc::ACCUMULATORS; i++) {
            const int row = 16 * w + g + 8 * ((i % 4) / 2), col = 8 * (i / 4) + 2 * q + (i % 2);
            float sum = 0;
            for (int k = 0; k < k_elements; k++) sum += operand(op.a, row, k, eb) * operand(op.b, col, k, eb);
            op.acc[t][i] += sum;
        }
    }
    op.done = true;
    cta->progress++;
}

Warpgroup& my_warpgroup() { return cta->warpgroups[current->thread / tc::WARPGROUP]; }

// The emulated hardware: the interface of gemm_sm90.cu's GemmDeviceOps.
template <int INPUT_BYTES>
struct HostOps {
    using TensorMap = EmulatedMap;
    static constexpr int ELEMENT_BYTES = INPUT_BYTES;
    static int element_bytes() { return INPUT_BYTES; }
    static int block_x() { return cta->x; }
    static int block_y() { return cta->y; }
    static int thread() { return current->thread; }
    static unsigned char* shared() { return cta->shared.data(); }
    static uint32_t shared_address(const void* p) { return shared_address_of(p); }

    static void sync() {
        const uint64_t generation = cta->sync_generation;
        cta->progress++;
        if (++cta->sync_arrived == static_cast<int>(cta->fibers.size())) {
            cta->sync_arrived = 0;
            cta->sync_generation++;
            return;
        }
        while (cta->sync_generation == generation) yield("__syncthreads");
    }

    static void store2(float* p, float a, float b) {
        if (reinterpret_cast<uintptr_t>(p) % 8 != 0) fail("float2 store not 8-byte aligned");
        p[0] = a;
        p[1] = b;
    }

    static void barrier_init(uint64_t* bar, int count) {
        const uint32_t address = shared_address_of(bar);
        if (address % 8 != 0) fail("mbarrier not 8-byte aligned");
        shared_byte(address, 8, "mbarrier");
        cta->barriers[address] = Mbarrier{count, count, 0, 0};
    }
    static void barrier_init_fence() {}
    static void arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
        Mbarrier& b = barrier_at(shared_address_of(bar), "arrive.expect_tx");
        b.tx += bytes;
        arrive(bar);
    }
    static void arrive(uint64_t* bar) {
        Mbarrier& b = barrier_at(shared_address_of(bar), "arrive");
        if (--b.pending < 0) fail("more arrivals than the mbarrier's count");
        cta->progress++;
        if (complete_if_done(b)) yield("mbarrier arrive");  // the threads it released run before this one goes on
    }
    static void wait(uint64_t* bar, int parity) {
        Mbarrier& b = barrier_at(shared_address_of(bar), "try_wait.parity");
        while (b.phase == parity) yield("mbarrier wait");
    }

    static void tma_load(void* dst, const TensorMap& map, int c0, int c1, uint64_t* bar) {
        if (map.element_bytes != INPUT_BYTES) fail("tensor map element size differs from the kernel's input type");
        const uint32_t address = shared_address_of(dst);
        if (address % 1024 != 0) fail("a 128-byte swizzled TMA destination must be 1024-byte aligned");
        if (map.box[0] * map.element_bytes > 128) fail("TMA box row wider than the 128-byte swizzle span");
        barrier_at(shared_address_of(bar), "TMA");
        cta->copies.push_back({address, &map, c0, c1, shared_address_of(bar), cta->round + cta->tma_delay});
        cta->progress++;
        if (cta->tma_delay == 0) land_due();
    }

    static void wgmma_fence() {}
    static void fence_accumulators(float (&)[tc::ACCUMULATORS]) {}
    static void wgmma(float (&d)[tc::ACCUMULATORS], uint64_t a, uint64_t b) {
        Warpgroup& wg = my_warpgroup();
        const size_t j = static_cast<size_t>(current->issued++);
        if (wg.ops.size() <= j) wg.ops.resize(j + 1);
        WgmmaOp& op = wg.ops[j];
        if (op.arrived == 0) {
            op.a = a;
            op.b = b;
            op.group = current->committed;
        } else if (op.a != a || op.b != b || op.group != current->committed) {
            fail("the threads of a warpgroup issued different wgmmas");
        }
        op.acc[current->thread % tc::WARPGROUP] = d;
        op.arrived++;
        cta->progress++;
    }
    static void wgmma_commit() { current->committed++; }
    // .sync.aligned: the warpgroup's 128 threads wait together; the last to arrive runs the wgmmas the wait covers
    // (all but the newest PENDING commit groups), so the operands are read as late as the hardware may read them.
    template <int PENDING>
    static void wgmma_wait() {
        Warpgroup& wg = my_warpgroup();
        const uint64_t generation = wg.wait_generation;
        if (++wg.wait_arrived < tc::WARPGROUP) {
            while (wg.wait_generation == generation) yield("wgmma.wait_group");
            return;
        }
        wg.wait_arrived = 0;
        for (WgmmaOp& op : wg.ops) {
            if (op.group >= current->committed - PENDING) break;
            if (op.arrived < tc::WARPGROUP) fail("wgmma.wait_group before every thread of the warpgroup issued its wgmmas");
            if (!op.done) execute(op);
        }
        wg.wait_generation++;
        cta->progress++;
    }
};

void run_cta(int x, int y, int threads, size_t shared_bytes, int element_bytes, const std::function<void()>& kernel) {
    Cta block;
    block.x = x;
    block.y = y;
    block.element_bytes = element_bytes;
    block.shared_bytes = shared_bytes;
    block.shared.assign(shared_bytes + GUARD, POISON);
    block.warpgroups.resize((threads + tc::WARPGROUP - 1) / tc::WARPGROUP);
    block.fibers.resize(threads);
    block.tma_delay = (x + y) % 3 == 0 ? 0 : (x + y) % 3 == 1 ? 1 : 3;
    cta = &block;
    body = kernel;
    while (stacks.size() < static_cast<size_t>(threads)) stacks.emplace_back(new char[STACK]);
    for (int t = 0; t < threads; t++) {
        Fiber& f = block.fibers[t];
        f.thread = t;
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = stacks[t].get();
        f.context.uc_stack.ss_size = STACK;
        f.context.uc_link = nullptr;
        makecontext(&f.context, fiber_main, 0);
    }
    // rounds of every runnable fiber, lowest or highest thread first by CTA, so the producer runs ahead or behind
    const bool reverse = (x + y) % 2 == 1;
    for (uint64_t idle = 0;; block.round++) {
        const uint64_t before = block.progress;
        for (int i = 0; i < threads; i++) {
            Fiber& f = block.fibers[reverse ? threads - 1 - i : i];
            if (f.done) continue;
            current = &f;
            swapcontext(&scheduler, &f.context);
        }
        land_due();
        bool all_done = true;
        for (const Fiber& f : block.fibers) all_done &= f.done;
        if (all_done) break;
        idle = block.progress == before && block.copies.empty() ? idle + 1 : 0;
        if (idle > 1) {
            std::string state;
            for (const Fiber& f : block.fibers) {
                if (f.done || f.thread % 32 != 0) continue;
                state += " " + std::to_string(f.thread) + "@" + (f.blocked ? f.blocked : "start");
            }
            fail("deadlock in CTA (" + std::to_string(x) + "," + std::to_string(y) + "): warps wait at" + state);
        }
    }
    if (!block.copies.empty()) fail("TMA copies still in flight when the CTA exited");
    for (size_t i = shared_bytes; i < block.shared.size(); i++) {
        if (block.shared[i] != POISON) fail("wrote past the dynamic shared memory");
    }
    cta = nullptr;
}

// ---- launches

struct Launch : LaunchShape {
    std::vector<std::vector<unsigned char>> params;
};

void read_params(Reader& r, Launch& launch) {
    launch.params.resize(r.read<uint32_t>());
    for (auto& p : launch.params) {
        p.resize(r.read<uint32_t>());
        r.bytes(p.data(), p.size());
    }
}

template <typename T>
T scalar(const Launch& launch, size_t i) {
    if (i >= launch.params.size()) fail(launch.name + ": missing parameter " + std::to_string(i));
    const auto& p = launch.params[i];
    if (p.size() != 8) fail(launch.name + ": parameter " + std::to_string(i) + " is not an 8-byte slot");
    T value;
    std::memcpy(&value, p.data(), sizeof(T));
    return value;
}

float* pointer(const Launch& launch, size_t i, size_t bytes, const char* what) {
    const uint64_t address = scalar<uint64_t>(launch, i);
    if (address == 0) return nullptr;
    return reinterpret_cast<float*>(host_pointer(address, bytes, what));
}

void execute(const Launch& launch) {
    int input_bytes;
    if (launch.name == "gemm_sm90_bf16") {
        input_bytes = 2;
    } else if (launch.name == "gemm_sm90_e4m3") {
        input_bytes = 1;
    } else {
        fail("no kernel " + launch.name);
    }
    if (launch.params.size() != 8) fail(launch.name + " takes 8 parameters, got " + std::to_string(launch.params.size()));
    if (launch.block[0] != tc::THREADS || launch.block[1] != 1 || launch.block[2] != 1) {
        fail(launch.name + " is written for " + std::to_string(tc::THREADS) + " threads");
    }
    if (launch.shared != tc::smem_bytes()) {
        fail(launch.name + " needs " + std::to_string(tc::smem_bytes()) + " bytes of dynamic shared memory, launched with " +
             std::to_string(launch.shared));
    }
    const EmulatedMap x_map = decode_map(launch.params[0]), w_map = decode_map(launch.params[1]);
    const int m = scalar<int>(launch, 4), n = scalar<int>(launch, 5), k = scalar<int>(launch, 6);
    const float scale = scalar<float>(launch, 7);
    float* y = pointer(launch, 2, static_cast<size_t>(m) * n * 4, "y");
    const float* row_scales = pointer(launch, 3, static_cast<size_t>(m) * 4, "row_scales");
    for (int by = 0; by < launch.grid[1]; by++) {
        for (int bx = 0; bx < launch.grid[0]; bx++) {
            run_cta(bx, by, launch.block[0], static_cast<size_t>(launch.shared), input_bytes, [&] {
                if (input_bytes == 2) {
                    tc::gemm<HostOps<2>>(x_map, w_map, y, row_scales, m, n, k, scale);
                } else {
                    tc::gemm<HostOps<1>>(x_map, w_map, y, row_scales, m, n, k, scale);
                }
            });
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    return run<Launch>(argc, argv, "gemm_emulator", "TRAMGEM1", read_params, execute);
}
