// Runs the attention kernels of attention_core.cuh, the sampling kernel of sampling_core.cuh, the MoE kernels of
// moe_core.cuh, the decode gemv of linear_core.cuh and the tensor-core GEMM's input conversions of gemm_input_core.cuh
// on the host, for AttentionEmulationTest, SamplingEmulationTest, MoeEmulationTest, LinearEmulationTest and
// GemmInputEmulationTest (no GPU needed).
// gemm_input_core.cuh, linear_core.cuh and moe_core.cuh are found on the include path (-I), so a test can compile a
// deliberately broken copy in their place.
//
// The kernel bodies are the device code itself, instantiated with HostOps instead of attention.cu's DeviceOps:
// every CUDA thread of a CTA is a fiber (ucontext) and the fibers of a CTA take turns; a fiber switches only at a
// barrier (__syncthreads, or a warp collective: shfl, ldmatrix, mma), in one of three orders per CTA (lanes in turn,
// or a warp at a time from the lowest or the highest), so memory effects interleave as the kernel allows. The collectives follow the PTX ISA's definitions, written here independently of the kernels:
// ldmatrix hands lane 4g+t the elements (g, 2t..2t+1) of each 8x8 matrix whose rows lanes 8i..8i+7 addressed
// (.trans: elements (2t, g) and (2t+1, g)); mma.m16n8k16 rebuilds A and B from every lane's registers by the
// "Matrix Fragments for mma.m16n8k16" tables and gives each lane its C elements. A cp.async copy lands either at
// issue or at the cp.async.wait_group that covers it (mixed, per copy), so a read before the wait and a copy into a
// stage another warp still reads both show. Shared memory starts as NaN bytes for every CTA, buffers the Java side
// did not fill start as NaN, and 256 guard bytes after every buffer (and after shared memory) must survive every
// launch. Errors (a lane outside a collective its warp entered, a deadlock, a misaligned or out-of-bounds access, a
// wrong launch shape) end the run with exit code 1.
//
// Input and output: emulated_device.h's, with the magic "TRAMEMU1" and a launch's parameters as
//   u32 count, u64 slots[count] (the 8-byte slots KernelArgs marshals for the launches AttentionKernels builds).
// Usage: attention_emulator INPUT OUTPUT
#include "../attention_core.cuh"
#include "../sampling_core.cuh"
#include "gemm_input_core.cuh"
#include "linear_core.cuh"
#include "moe_core.cuh"
#include "emulated_device.h"

#include <ucontext.h>

#include <bit>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace {
namespace attn = tramontane::attention;
namespace smp = tramontane::sampling;
namespace moe = tramontane::moe;
namespace lin = tramontane::linear;
namespace input = tramontane::gemm_input;

using namespace tramontane::emulator;

// ---- CTAs of fibers

struct Barrier {
    int arrived = 0;
    uint64_t generation = 0;
    const char* what = nullptr;
};

struct Exchange {  // one warp collective's operands
    float value[32];
    const uint16_t* address[32];
    uint32_t a[32][4], b[32][2];
    float A[16][16], B[16][8];
};

struct Warp {
    Barrier barrier;
    Exchange exchange[2];  // collectives alternate between the two, so one barrier per collective suffices
};

struct Copy {
    uint16_t* dst;
    const uint16_t* src;
    bool fill;
};

struct Lane {
    ucontext_t context;
    int thread = 0;
    bool done = false;
    const Barrier* waiting = nullptr;
    uint64_t generation = 0;
    uint64_t collectives = 0;
    std::vector<Copy> open;
    std::deque<std::vector<Copy>> groups;
};

struct Cta {
    int x = 0, y = 0, z = 0, threads = 0;
    Bytes shared;  // bytes + GUARD
    size_t shared_bytes = 0;
    Barrier barrier;
    std::vector<Warp> warps;
    std::vector<Lane> lanes;
};

Cta* cta = nullptr;
int grid_x = 1;  // the launch's grid.x, for kernels that stride over their blocks
Lane* current = nullptr;
ucontext_t scheduler;
std::function<void()> body;
std::vector<std::unique_ptr<char[]>> stacks;
constexpr size_t STACK = 256 * 1024;

void lane_main() {
    body();
    current->done = true;
    swapcontext(&current->context, &scheduler);
    fail("a finished lane was resumed");
}

// Arrives at `barrier` of `participants` lanes; the last arrival returns true at once, the others wait for it.
bool arrive(Barrier& barrier, int participants, const char* what) {
    Lane* self = current;
    if (barrier.arrived == 0) {
        barrier.what = what;
    } else if (std::strcmp(barrier.what, what) != 0) {
        fail("thread " + std::to_string(self->thread) + " reached " + what + " while others wait at " + barrier.what);
    }
    if (++barrier.arrived == participants) {
        barrier.arrived = 0;
        barrier.generation++;
        return true;
    }
    self->waiting = &barrier;
    self->generation = barrier.generation;
    swapcontext(&self->context, &scheduler);
    return false;
}

Warp& my_warp() { return cta->warps[current->thread / 32]; }
int my_lane() { return current->thread & 31; }
Exchange& next_exchange() { return my_warp().exchange[current->collectives++ & 1]; }

void run_cta(int x, int y, int z, int threads, size_t shared_bytes, const std::function<void()>& kernel) {
    Cta block;
    block.x = x;
    block.y = y;
    block.z = z;
    block.threads = threads;
    block.shared_bytes = shared_bytes;
    block.shared.assign(shared_bytes + GUARD, POISON);
    block.warps.resize(threads / 32);
    block.lanes.resize(threads);
    cta = &block;
    body = kernel;
    while (stacks.size() < static_cast<size_t>(threads)) stacks.emplace_back(new char[STACK]);
    for (int t = 0; t < threads; t++) {
        Lane& lane = block.lanes[t];
        lane.thread = t;
        getcontext(&lane.context);
        lane.context.uc_stack.ss_sp = stacks[t].get();
        lane.context.uc_stack.ss_size = STACK;
        lane.context.uc_link = nullptr;
        makecontext(&lane.context, lane_main, 0);
    }
    auto runnable = [](const Lane& lane) {
        return !lane.done && (lane.waiting == nullptr || lane.waiting->generation != lane.generation);
    };
    auto resume = [](Lane& lane) {
        lane.waiting = nullptr;
        current = &lane;
        swapcontext(&scheduler, &lane.context);
    };
    // Three interleavings, one per CTA in turn: every lane in turn (warps in near lockstep), or one warp at a time
    // as far as it gets (lowest or highest first), so a warp runs ahead of the others into the next barrier.
    const int policy = (x + y + z) % 3, warps = threads / 32;
    for (;;) {
        bool progressed = false;
        if (policy == 0) {
            for (Lane& lane : block.lanes) {
                if (runnable(lane)) {
                    resume(lane);
                    progressed = true;
                }
            }
        } else {
            for (int i = 0; i < warps && !progressed; i++) {
                const int w = policy == 1 ? i : warps - 1 - i;
                for (bool again = true; again;) {
                    again = false;
                    for (int t = 32 * w; t < 32 * w + 32; t++) {
                        if (runnable(block.lanes[t])) {
                            resume(block.lanes[t]);
                            again = progressed = true;
                        }
                    }
                }
            }
        }
        bool all_done = true;
        for (const Lane& lane : block.lanes) all_done &= lane.done;
        if (all_done) break;
        if (!progressed) {
            std::string state;
            for (Lane& lane : block.lanes) {
                if (!lane.done) state += " " + std::to_string(lane.thread) + "@" + lane.waiting->what;
            }
            fail("deadlock in CTA (" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(z) +
                 "): waiting threads" + state);
        }
    }
    for (size_t i = shared_bytes; i < block.shared.size(); i++) {
        if (block.shared[i] != POISON) fail("wrote past the dynamic shared memory");
    }
    cta = nullptr;
}

void require_shared(const void* p, size_t n, const char* what) {
    const auto* c = static_cast<const unsigned char*>(p);
    if (c < cta->shared.data() || c + n > cta->shared.data() + cta->shared_bytes) {
        fail(std::string(what) + " outside the dynamic shared memory");
    }
}

uint16_t bf16_of(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    if (std::isnan(x)) return static_cast<uint16_t>((bits >> 16) | 0x40);
    return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

float float_of_bf16(uint32_t bits16) {
    const uint32_t bits = bits16 << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// The emulated hardware: the same interface as attention.cu's DeviceOps.
struct HostOps {
    static int block_x() { return cta->x; }
    static int block_y() { return cta->y; }
    static int block_z() { return cta->z; }
    static int grid_x() { return ::grid_x; }
    static int thread() { return current->thread; }
    static unsigned char* shared() { return cta->shared.data(); }
    static void sync() { arrive(cta->barrier, cta->threads, "__syncthreads"); }

    static float shfl_xor(float v, int mask) {
        Exchange& x = next_exchange();
        const int lane = my_lane();
        x.value[lane] = v;
        arrive(my_warp().barrier, 32, "shfl_xor");
        return x.value[lane ^ mask];
    }

    static float exp(float x) { return std::exp(x); }
    static double exp(double x) { return std::exp(x); }
    static float fma(float a, float b, float c) { return std::fma(a, b, c); }

    // the MoE grouped linears' loads and FP8 conversions
    static void load16(const void* p, uint32_t (&out)[4]) {
        require_aligned(p, 16, "16-byte load");
        require_in_buffer(p, 16, "16-byte load");
        std::memcpy(out, p, 16);
    }
    static void load4_shared(const float* p, float (&out)[4]) {
        require_shared(p, 16, "16-byte shared load");
        require_aligned(p, 16, "16-byte shared load");
        std::memcpy(out, p, 16);
    }
    static float e4m3(uint8_t bits) {  // 1 sign, 4 exponent (bias 7), 3 mantissa bits; S.1111.111 is NaN
        const int exponent = (bits >> 3) & 15, mantissa = bits & 7;
        float value;
        if (exponent == 15 && mantissa == 7) {
            value = NAN;
        } else if (exponent == 0) {
            value = std::ldexp(static_cast<float>(mantissa), -9);
        } else {
            value = std::ldexp(static_cast<float>(8 + mantissa), exponent - 10);
        }
        return bits & 0x80 ? -value : value;
    }
    static void e4m3x2(uint32_t bits, float& lo, float& hi) {
        lo = e4m3(static_cast<uint8_t>(bits & 0xff));
        hi = e4m3(static_cast<uint8_t>((bits >> 8) & 0xff));
    }
    // e4m3(x / scale): round to nearest even on the e4m3 grid, saturated to +-448 (cvt.rn.satfinite)
    static float quantize_e4m3(float x, float scale) {
        const float v = x / scale;
        if (std::isnan(v)) return v;
        const float magnitude = std::fabs(v);
        float q;
        if (magnitude >= 448.0f) {
            q = 448.0f;
        } else {
            int exponent;
            std::frexp(magnitude, &exponent);  // magnitude in [2^(exponent-1), 2^exponent)
            const int step = exponent - 1 < -6 ? -9 : exponent - 4;  // 3 mantissa bits; subnormals below 2^-6
            q = std::ldexp(std::nearbyint(std::ldexp(magnitude, -step)), step);
        }
        return std::signbit(v) ? -q : q;
    }

    static uint32_t ballot(bool p) {
        Exchange& x = next_exchange();
        const int lane = my_lane();
        x.value[lane] = p ? 1.0f : 0.0f;
        arrive(my_warp().barrier, 32, "ballot");
        uint32_t bits = 0;
        for (int l = 0; l < 32; l++) bits |= (x.value[l] != 0.0f ? 1u : 0u) << l;
        return bits;
    }
    static float exp2(float x) { return std::exp2(x); }
    static float as_float(uint32_t bits) {
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
    static uint16_t to_bf16(float x) { return bf16_of(x); }
    static uint32_t pack_bf16(float lo, float hi) {
        return static_cast<uint32_t>(bf16_of(lo)) | static_cast<uint32_t>(bf16_of(hi)) << 16;
    }

    static void load4(const float* p, float (&out)[4]) {
        require_aligned(p, 16, "float4 load");
        std::memcpy(out, p, 16);
    }
    static void load4(const uint16_t* p, float (&out)[4]) {
        require_aligned(p, 8, "uint2 load");
        for (int i = 0; i < 4; i++) out[i] = float_of_bf16(p[i]);
    }
    static void load4(const uint8_t* p, float (&out)[4]) {
        require_aligned(p, 4, "u32 load");
        require_in_buffer(p, 4, "u32 load");
        for (int i = 0; i < 4; i++) out[i] = e4m3(p[i]);
    }
    static void load8(const uint8_t* p, uint32_t (&out)[2]) {
        require_aligned(p, 8, "uint2 load");
        require_in_buffer(p, 8, "uint2 load");
        std::memcpy(out, p, 8);
    }
    // the bits of quantize_e4m3(x, 1): sign, then exponent (bias 7) and 3 mantissa bits, or a subnormal m * 2^-9
    static uint8_t to_e4m3(float x) {
        const float q = quantize_e4m3(x, 1.0f);
        if (std::isnan(q)) return 0x7f;
        const uint8_t sign = std::signbit(q) ? 0x80 : 0;
        const float magnitude = std::fabs(q);
        if (magnitude < 0x1p-6f) return sign | static_cast<uint8_t>(std::ldexp(magnitude, 9));
        int exponent;
        const float fraction = std::frexp(magnitude, &exponent);  // [0.5, 1): magnitude = 2^(exponent - 1) * 2f
        const int mantissa = static_cast<int>(std::ldexp(fraction, 4)) - 8;
        return sign | static_cast<uint8_t>((exponent - 1 + 7) << 3 | mantissa);
    }
    static void store2(float* p, float a, float b) {
        require_aligned(p, 8, "float2 store");
        p[0] = a;
        p[1] = b;
    }
    static void store_shared16(uint16_t* p, const uint32_t (&v)[4]) {
        require_shared(p, 16, "16-byte shared store");
        require_aligned(p, 16, "16-byte shared store");
        std::memcpy(p, v, 16);
    }

    // Fibers switch only at barriers, so a read-modify-write is atomic as written.
    template <typename T>
    static void atomic_add(T* p, T v) {
        require_shared(p, sizeof(T), "shared atomic");
        *p += v;
    }

    // __match_any_sync over the full warp: the lanes whose value equals this lane's.
    static unsigned match_any(unsigned v) {
        Exchange& x = next_exchange();
        const int lane = my_lane();
        x.a[lane][0] = v;
        arrive(my_warp().barrier, 32, "match_any");
        unsigned peers = 0;
        for (int l = 0; l < 32; l++) peers |= (x.a[l][0] == v ? 1u : 0u) << l;
        return peers;
    }
    // __reduce_add_sync(peers, v), every lane of the warp taking part with its own group's mask: the sum over the
    // group, which must include this lane and agree on the mask.
    static unsigned reduce_add(unsigned peers, unsigned v) {
        Exchange& x = next_exchange();
        const int lane = my_lane();
        x.a[lane][0] = v;
        x.b[lane][0] = peers;
        arrive(my_warp().barrier, 32, "reduce_add");
        if ((peers >> lane & 1u) == 0) fail("reduce_add: a lane outside its own mask");
        unsigned sum = 0;
        for (int l = 0; l < 32; l++) {
            if ((peers >> l & 1u) == 0) continue;
            if (x.b[l][0] != peers) fail("reduce_add: lanes of one mask passed different masks");
            sum += x.a[l][0];
        }
        return sum;
    }
    static bool lowest_lane(unsigned peers) { return my_lane() == std::countr_zero(peers); }
    static int popcount(unsigned v) { return std::popcount(v); }

    static void ldmatrix(uint32_t (&r)[4], const uint16_t* p, bool trans) {
        require_shared(p, 16, "ldmatrix row");
        require_aligned(p, 16, "ldmatrix row");
        Exchange& x = next_exchange();
        const int lane = my_lane();
        x.address[lane] = p;
        arrive(my_warp().barrier, 32, trans ? "ldmatrix.trans" : "ldmatrix");
        const int g = lane >> 2, t = lane & 3;
        for (int i = 0; i < 4; i++) {
            const uint16_t* const* rows = x.address + 8 * i;  // the 8 row addresses of matrix i
            uint32_t lo, hi;
            if (!trans) {  // element (g, 2t) and (g, 2t + 1)
                lo = rows[g][2 * t];
                hi = rows[g][2 * t + 1];
            } else {  // element (2t, g) and (2t + 1, g)
                lo = rows[2 * t][g];
                hi = rows[2 * t + 1][g];
            }
            r[i] = lo | hi << 16;
        }
    }
    static void ldmatrix_x4(uint32_t (&r)[4], const uint16_t* p) { ldmatrix(r, p, false); }
    static void ldmatrix_x4_trans(uint32_t (&r)[4], const uint16_t* p) { ldmatrix(r, p, true); }

    static void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
        Exchange& x = next_exchange();
        const int lane = my_lane();
        for (int i = 0; i < 4; i++) x.a[lane][i] = a[i];
        x.b[lane][0] = b0;
        x.b[lane][1] = b1;
        if (arrive(my_warp().barrier, 32, "mma")) {  // the last lane in assembles A and B by the PTX tables
            for (int l = 0; l < 32; l++) {
                const int g = l >> 2, t = l & 3;
                for (int i = 0; i < 8; i++) {  // a0..a7, two per register, low half first
                    const float value = float_of_bf16((x.a[l][i / 2] >> (16 * (i % 2))) & 0xffffu);
                    const int row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8;
                    const int col = t * 2 + (i & 1) + (i >= 4 ? 8 : 0);
                    x.A[row][col] = value;
                }
                for (int i = 0; i < 4; i++) {  // b0..b3
                    const float value = float_of_bf16((x.b[l][i / 2] >> (16 * (i % 2))) & 0xffffu);
                    const int row = t * 2 + (i & 1) + (i >= 2 ? 8 : 0);
                    x.B[row][g] = value;
                }
            }
        }
        const int g = lane >> 2, t = lane & 3;
        for (int i = 0; i < 4; i++) {  // c0..c3: rows g, g, g + 8, g + 8; columns 2t, 2t + 1
            const int row = i < 2 ? g : g + 8, col = t * 2 + (i & 1);
            float sum = 0.0f;
            for (int k = 0; k < 16; k++) sum += x.A[row][k] * x.B[k][col];
            c[i] += sum;
        }
    }

    // A copy lands at some moment between its issue and the wait that covers it: here, by a fixed pseudo-random
    // choice per copy, either at once (exposing a copy into shared memory other warps still read) or at the wait
    // (exposing a read before the wait).
    static void cp_async16(uint16_t* dst, const uint16_t* src, bool fill) {
        require_shared(dst, 16, "cp.async destination");
        require_aligned(dst, 16, "cp.async destination");
        if (fill) {
            require_aligned(src, 16, "cp.async source");
            require_in_buffer(src, 16, "cp.async source");
        }
        static uint64_t copies = 0;
        const Copy copy{dst, src, fill};
        if ((++copies * 0x9e3779b97f4a7c15ull) >> 63) {
            land(copy);
        } else {
            current->open.push_back(copy);
        }
    }
    static void cp_async16(unsigned char* dst, const void* src, bool fill) {  // the gemv's untyped ring
        cp_async16(reinterpret_cast<uint16_t*>(dst), static_cast<const uint16_t*>(src), fill);
    }
    // the tensor-core GEMM's input conversions
    static float div(float a, float b) { return a / b; }
    static float max(float a, float b) { return std::fmax(a, b); }
    static float abs(float a) { return std::fabs(a); }
    template <typename T>
    static void store4(T* p, const T (&v)[4]) {
        require_aligned(p, 4 * sizeof(T), "packed store");
        require_in_buffer(p, 4 * sizeof(T), "packed store");
        std::memcpy(p, v, 4 * sizeof(T));
    }
    static void load16_shared(const unsigned char* p, uint32_t (&out)[4]) {
        require_shared(p, 16, "16-byte shared load");
        require_aligned(p, 16, "16-byte shared load");
        std::memcpy(out, p, 16);
    }
    static void land(const Copy& c) {
        if (c.fill) {
            std::memcpy(c.dst, c.src, 16);
        } else {
            std::memset(c.dst, 0, 16);
        }
    }
    static void cp_async_commit() {
        current->groups.push_back(std::move(current->open));
        current->open.clear();
    }
    template <int PENDING>
    static void cp_async_wait() {
        while (current->groups.size() > static_cast<size_t>(PENDING)) {
            for (const Copy& c : current->groups.front()) land(c);
            current->groups.pop_front();
        }
    }
};

// A deliberately broken device for the sampling kernel (SamplingEmulationTest): a warp reduction that returns each
// lane's own value, so a warp's aggregated bin weights lose every lane but one. The test must see its tokens differ.
struct LostPeersOps : HostOps {
    static unsigned reduce_add(unsigned peers, unsigned v) {
        HostOps::reduce_add(peers, v);
        return v;
    }
};

// A deliberately broken device for the e4m3 attention kernels (AttentionEmulationTest): decoding drops the 3
// mantissa bits, so cached K and V lose up to a third of their value. The test must see the FP8 bounds fail.
struct CoarseE4m3Ops : HostOps {
    static float e4m3(uint8_t bits) { return HostOps::e4m3(bits & 0xf8); }
    static void e4m3x2(uint32_t bits, float& lo, float& hi) { HostOps::e4m3x2(bits & 0xf8f8u, lo, hi); }
    using HostOps::load4;
    static void load4(const uint8_t* p, float (&out)[4]) {
        HostOps::load4(p, out);  // its alignment and bounds checks
        for (int i = 0; i < 4; i++) out[i] = e4m3(p[i]);
    }
};

// ---- launches

struct Launch : LaunchShape {
    std::vector<uint64_t> slots;
};

void read_slots(Reader& r, Launch& launch) {
    launch.slots.resize(r.read<uint32_t>());
    for (uint64_t& s : launch.slots) s = r.read<uint64_t>();
}

// Host copies of the device-address tables passed to kernels, alive until the emulator exits.
std::deque<std::vector<unsigned char*>> address_tables;

// Parameter i of the launch as the kernel's C type T declares it (pointer: a device address, 0 for null; a pointer to
// pointers: a table of device addresses; int64: the slot; int and float: the low 4 bytes of the 8-byte slot
// KernelArgs wrote).
template <typename T>
T argument(const Launch& launch, size_t i) {
    if (i >= launch.slots.size()) {
        fail(launch.name + " takes more than the " + std::to_string(launch.slots.size()) + " parameters given");
    }
    const uint64_t slot = launch.slots[i];
    if constexpr (std::is_pointer_v<T> && std::is_pointer_v<std::remove_cv_t<std::remove_pointer_t<T>>>) {
        // a table of device addresses (the MoE experts' weights): a host copy with every entry translated
        const std::string what = launch.name + " parameter " + std::to_string(i);
        const Buffer* b = buffer_at(slot);
        if (b == nullptr || slot % 8 != 0) fail(what + ": no aligned table at " + hex(slot));
        const auto* entries = reinterpret_cast<const uint64_t*>(host_pointer(slot, 0, what));
        auto& table = address_tables.emplace_back((b->address + b->bytes - slot) / 8);
        for (size_t e = 0; e < table.size(); e++) {
            table[e] = host_pointer(entries[e], 0, what + " entry " + std::to_string(e));
        }
        return reinterpret_cast<T>(table.data());
    } else if constexpr (std::is_pointer_v<T>) {
        if (slot == 0) return nullptr;
        return reinterpret_cast<T>(host_pointer(slot, 0, launch.name + " parameter " + std::to_string(i)));
    } else if constexpr (sizeof(T) == 8) {
        T value;
        std::memcpy(&value, &slot, 8);
        return value;
    } else {
        static_assert(sizeof(T) == 4, "int, int64 and float parameters");
        const uint32_t low = static_cast<uint32_t>(slot);
        T value;
        std::memcpy(&value, &low, 4);
        return value;
    }
}

template <typename... P, size_t... I>
std::tuple<P...> arguments(const Launch& launch, std::index_sequence<I...>) {
    return std::tuple<P...>{argument<P>(launch, I)...};
}

struct Kernel {
    int threads;  // the block size the body is written for
    int shared;   // the dynamic shared memory it needs
    std::function<void(const Launch&)> run;
};

template <typename... P>
Kernel kernel(void (*entry)(P...), int threads, int shared) {
    return {threads, shared, [entry](const Launch& launch) {
                if (launch.slots.size() != sizeof...(P)) {
                    fail(launch.name + " takes " + std::to_string(sizeof...(P)) + " parameters, got " +
                         std::to_string(launch.slots.size()));
                }
                auto args = arguments<P...>(launch, std::index_sequence_for<P...>{});
                grid_x = launch.grid[0];
                for (int z = 0; z < launch.grid[2]; z++) {
                    for (int y = 0; y < launch.grid[1]; y++) {
                        for (int x = 0; x < launch.grid[0]; x++) {
                            run_cta(x, y, z, launch.block[0], static_cast<size_t>(launch.shared),
                                    [&] { std::apply(entry, args); });
                        }
                    }
                }
            }};
}

// a decode gemv of weight type W in ring shape Shape (linear_core.cuh), at the block size and shared memory it is written for
template <typename W, typename Shape>
Kernel gemv() {
    return kernel(&lin::gemv<W, Shape, HostOps>, lin::GEMV_THREADS, Shape::smem_bytes());
}

const std::map<std::string, Kernel>& kernels() {
    static const std::map<std::string, Kernel> table = {
        {"kv_store_f32", kernel(&attn::kv_store<float, HostOps>, attn::STORE_THREADS, 0)},
        {"kv_store_bf16", kernel(&attn::kv_store<uint16_t, HostOps>, attn::STORE_THREADS, 0)},
        {"attention_f32", kernel(&attn::generic<float, HostOps>, attn::GENERIC_THREADS, attn::generic_smem_bytes())},
        {"attention_bf16",
         kernel(&attn::generic<uint16_t, HostOps>, attn::GENERIC_THREADS, attn::generic_smem_bytes())},
        {"attention_prefill_d64", kernel(&attn::prefill<64, 8, HostOps>, 256, attn::prefill_smem_bytes(64, 8))},
        {"attention_prefill_d128", kernel(&attn::prefill<128, 4, HostOps>, 128, attn::prefill_smem_bytes(128, 4))},
        {"attention_decode_d64", kernel(&attn::decode<64, HostOps>, attn::DECODE_THREADS, attn::decode_smem_bytes(64))},
        {"attention_decode_d128",
         kernel(&attn::decode<128, HostOps>, attn::DECODE_THREADS, attn::decode_smem_bytes(128))},
        {"attention_reduce", kernel(&attn::reduce<HostOps>, attn::REDUCE_THREADS, 0)},
        {"kv_store_e4m3", kernel(&attn::kv_store_e4m3<HostOps>, attn::STORE_THREADS, 0)},
        {"attention_e4m3", kernel(&attn::generic_e4m3<HostOps>, attn::GENERIC_THREADS, attn::generic_smem_bytes())},
        {"attention_prefill_d64_e4m3",
         kernel(&attn::prefill_e4m3<64, 8, HostOps>, 256, attn::prefill_smem_bytes(64, 8))},
        {"attention_prefill_d128_e4m3",
         kernel(&attn::prefill_e4m3<128, 4, HostOps>, 128, attn::prefill_smem_bytes(128, 4))},
        {"attention_decode_d64_e4m3",
         kernel(&attn::decode_e4m3<64, HostOps>, attn::DECODE_THREADS, attn::decode_smem_bytes(64))},
        {"attention_decode_d128_e4m3",
         kernel(&attn::decode_e4m3<128, HostOps>, attn::DECODE_THREADS, attn::decode_smem_bytes(128))},
        {"attention_e4m3_coarse",
         kernel(&attn::generic_e4m3<CoarseE4m3Ops>, attn::GENERIC_THREADS, attn::generic_smem_bytes())},
        {"attention_prefill_d64_e4m3_coarse",
         kernel(&attn::prefill_e4m3<64, 8, CoarseE4m3Ops>, 256, attn::prefill_smem_bytes(64, 8))},
        {"attention_prefill_d128_e4m3_coarse",
         kernel(&attn::prefill_e4m3<128, 4, CoarseE4m3Ops>, 128, attn::prefill_smem_bytes(128, 4))},
        {"attention_decode_d64_e4m3_coarse",
         kernel(&attn::decode_e4m3<64, CoarseE4m3Ops>, attn::DECODE_THREADS, attn::decode_smem_bytes(64))},
        {"attention_decode_d128_e4m3_coarse",
         kernel(&attn::decode_e4m3<128, CoarseE4m3Ops>, attn::DECODE_THREADS, attn::decode_smem_bytes(128))},
        {"sample_rows", kernel(&smp::sample_rows<HostOps>, smp::THREADS, smp::smem_bytes())},
        {"sample_rows_lost_peers", kernel(&smp::sample_rows<LostPeersOps>, smp::THREADS, smp::smem_bytes())},
        {"gemm_input_bf16", kernel(&input::bf16<HostOps>, input::THREADS, input::smem_bytes())},
        {"gemm_input_e4m3", kernel(&input::e4m3<HostOps>, input::THREADS, input::smem_bytes())},
        {"gemm_input_e4m3_rows", kernel(&input::e4m3_rows<HostOps>, input::THREADS, input::smem_bytes())},
        {"linear_gemv_f32", gemv<float, lin::Production>()},
        {"linear_gemv_bf16", gemv<uint16_t, lin::Production>()},
        {"linear_gemv_e4m3", gemv<uint8_t, lin::Production>()},
        {"linear_gemv_e4m3_r2c2s2", gemv<uint8_t, lin::Layout<2, 2, 2>>()},
        {"linear_gemv_e4m3_r4c1s3", gemv<uint8_t, lin::Layout<4, 1, 3>>()},
        {"linear_gemv_e4m3_r8c1s2", gemv<uint8_t, lin::Layout<8, 1, 2>>()},
        {"linear_gemv_bf16_r2c2s2", gemv<uint16_t, lin::Layout<2, 2, 2>>()},
        {"linear_gemv_bf16_r4c1s3", gemv<uint16_t, lin::Layout<4, 1, 3>>()},
        {"linear_gemv_bf16_r8c1s2", gemv<uint16_t, lin::Layout<8, 1, 2>>()},
        {"moe_route", kernel(&moe::route<HostOps>, moe::ROUTE_THREADS, 0)},
        {"moe_permute", kernel(&moe::permute<HostOps>, moe::PERMUTE_THREADS, moe::permute_smem_bytes())},
        {"moe_gather", kernel(&moe::gather<HostOps>, moe::ROW_THREADS, 0)},
        {"moe_combine", kernel(&moe::combine<HostOps>, moe::ROW_THREADS, 0)},
        {"moe_gemv_f32", kernel(&moe::grouped_gemv<float, false, HostOps>, moe::GEMV_THREADS, 0)},
        {"moe_gemv_bf16", kernel(&moe::grouped_gemv<uint16_t, false, HostOps>, moe::GEMV_THREADS, 0)},
        {"moe_gemv_e4m3", kernel(&moe::grouped_gemv<uint8_t, false, HostOps>, moe::GEMV_THREADS, 0)},
        {"moe_gemv_e4m3_w8a8", kernel(&moe::grouped_gemv<uint8_t, true, HostOps>, moe::GEMV_THREADS, 0)},
        {"moe_gemm_f32", kernel(&moe::grouped_gemm<float, false, HostOps>, moe::GEMM_THREADS, moe::gemm_smem_bytes())},
        {"moe_gemm_bf16", kernel(&moe::grouped_gemm<uint16_t, false, HostOps>, moe::GEMM_THREADS, moe::gemm_smem_bytes())},
        {"moe_gemm_e4m3", kernel(&moe::grouped_gemm<uint8_t, false, HostOps>, moe::GEMM_THREADS, moe::gemm_smem_bytes())},
        {"moe_gemm_e4m3_w8a8",
         kernel(&moe::grouped_gemm<uint8_t, true, HostOps>, moe::GEMM_THREADS, moe::gemm_smem_bytes())},
    };
    return table;
}

void execute(const Launch& launch) {
    auto it = kernels().find(launch.name);
    if (it == kernels().end()) fail("no kernel " + launch.name);
    const Kernel& k = it->second;
    if (launch.block[0] != k.threads || launch.block[1] != 1 || launch.block[2] != 1) {
        fail(launch.name + " is written for " + std::to_string(k.threads) + " threads, launched with " +
             std::to_string(launch.block[0]) + "x" + std::to_string(launch.block[1]) + "x" +
             std::to_string(launch.block[2]));
    }
    if (launch.shared != k.shared) {
        fail(launch.name + " needs " + std::to_string(k.shared) + " bytes of dynamic shared memory, launched with " +
             std::to_string(launch.shared));
    }
    for (int d = 0; d < 3; d++) {
        if (launch.grid[d] < 1) fail(launch.name + ": empty grid");
    }
    k.run(launch);
}

}  // namespace

int main(int argc, char** argv) {
    return run<Launch>(argc, argv, "attention_emulator", "TRAMEMU1", read_slots, execute);
}
