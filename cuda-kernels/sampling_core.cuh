// The sampling kernel's body: one CTA draws one row's token exactly as io.tramontane.sampling.TokenDraw defines it
// (that class's comment is the specification; every rounding below is the one it makes). Written against an `Ops`
// type for the thread's coordinates, shared memory, barriers, warp match/reduce and shared-memory atomics: sampling.cu
// instantiates it with the device's, test/attention_emulator.cpp with emulated ones (SamplingEmulationTest), so the
// same source runs on the host against the CPU backend.
//
// Per row: the argmax; then, unless greedy, candidates within 30 temperature-scaled nats of it, each with an integer
// weight round(2^43 exp(l/T - max/T)). Top-k, top-p and the draw itself are each one weighted selection: the candidate
// e, in descending (logit, -id) key order, at which the running weight crosses a target computed from the total
// weight, which the selection's first pass yields. A selection is an MSD radix select over the 64-bit key, 8 bits a
// pass: every pass histograms the weight and count of the candidates that share the prefix chosen so far, and stops
// as soon as the chosen bin holds a single candidate (typically after 3 or 4 of the 8 digits). Integer weights make
// the histograms exact whatever order the atomics land in; a warp adds its lanes' weights per distinct bin before the
// atomic (add_to_bin). No sort, no scratch beyond 7.3 KB of shared memory; the row is read from L2 once per pass.
//
// logits: [rows, stride] FP32 (vocab <= stride columns used); params: [rows, PARAMS] doubles (temperature, top_k,
// top_p, min_p, uniform); tokens: [rows] int32. grid = rows, block = THREADS.
#pragma once
#include <cstdint>
#ifndef __CUDACC__
#include <cmath>
#include <cstring>
#endif

#include "core_prelude.cuh"

namespace tramontane::sampling {

using u64 = unsigned long long;

constexpr int THREADS = 512;
constexpr int DIGIT_BITS = 8, BINS = 1 << DIGIT_BITS;
constexpr int SCAN_LANES = 32, BINS_PER_LANE = BINS / SCAN_LANES;  // the bin search: 32 threads of 8 bins each
constexpr int PARAMS = 5;
constexpr int WEIGHT_BITS = 43;
constexpr float WINDOW = 30.0f;

// TokenDraw's constants, bit for bit.
constexpr double INV_LN2 = 0x1.71547652b82fep0, LN2_HI = 0x1.62e42feep-1, LN2_LO = 0x1.a39ef35793c76p-33;

struct Shared {
    u64 weight[BINS];
    unsigned int count[BINS];
    u64 lane_weight[SCAN_LANES];  // the bin search's per-lane sums
    u64 partial[THREADS];         // block reductions
    u64 prefix, above, total, found;
    unsigned int chosen_count;
};

CORE_CONSTEXPR int smem_bytes() { return static_cast<int>(sizeof(Shared)); }
static_assert(sizeof(Shared) == 7464, "SamplingKernels.SHARED_BYTES must match");

// ---- the arithmetic, correctly rounded one operation at a time (no contraction into fma but where written)

CORE_FN double dmul(double a, double b) {
#ifdef __CUDACC__
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}
CORE_FN double ddiv(double a, double b) {
#ifdef __CUDACC__
    return __ddiv_rn(a, b);
#else
    return a / b;
#endif
}
CORE_FN double dsub(double a, double b) {
#ifdef __CUDACC__
    return __dsub_rn(a, b);
#else
    return a - b;
#endif
}
CORE_FN float fmul(float a, float b) {
#ifdef __CUDACC__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}
CORE_FN float fsub(float a, float b) {
#ifdef __CUDACC__
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}
CORE_FN uint32_t float_bits(float v) {
#ifdef __CUDACC__
    return __float_as_uint(v);
#else
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    return bits;
#endif
}
CORE_FN double double_of_bits(u64 bits) {
#ifdef __CUDACC__
    return __longlong_as_double(static_cast<long long>(bits));
#else
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
#endif
}

// round(2^43 e^x) for x <= 0, 0 below -40 (TokenDraw.fixedExp).
CORE_FN u64 fixed_exp(double x) {
    if (!(x >= -40.0)) return 0;
    const double k = rint(dmul(x, INV_LN2));
    double r = fma(-k, LN2_HI, x);
    r = fma(-k, LN2_LO, r);
    // Taylor to 1/12!, the divisions folded by the compiler exactly as javac folds TokenDraw.TAYLOR
    double p = 1.0 / 479001600;
    p = fma(p, r, 1.0 / 39916800);
    p = fma(p, r, 1.0 / 3628800);
    p = fma(p, r, 1.0 / 362880);
    p = fma(p, r, 1.0 / 40320);
    p = fma(p, r, 1.0 / 5040);
    p = fma(p, r, 1.0 / 720);
    p = fma(p, r, 1.0 / 120);
    p = fma(p, r, 1.0 / 24);
    p = fma(p, r, 1.0 / 6);
    p = fma(p, r, 1.0 / 2);
    p = fma(p, r, 1.0);
    p = fma(p, r, 1.0);
    const double scale = double_of_bits(static_cast<u64>(1023 + WEIGHT_BITS + static_cast<int>(k)) << 52);
    return static_cast<u64>(rint(dmul(p, scale)));
}

// Descending key order is descending logit, then ascending id: the high word orders floats as unsigned integers
// (-0 taken as +0), the low word is ~id. Never 0 for a non-NaN logit, so 0 marks "not a candidate".
CORE_FN u64 key_of(float v, int id) {
    uint32_t bits = float_bits(v);
    if (bits == 0x80000000u) bits = 0;
    const uint32_t ordered = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    return static_cast<u64>(ordered) << 32 | static_cast<uint32_t>(~static_cast<uint32_t>(id));
}
CORE_FN int id_of(u64 key) { return static_cast<int>(~static_cast<uint32_t>(key)); }

// ---- block-wide pieces

// Adds each lane's weight w to bin `digit` (BINS: nothing to add), with one shared atomic per distinct digit of the
// warp instead of one per lane: most candidates share the key's top byte, and same-address atomics serialize. A
// weight is at most 2^43, so its halves split at bit 22 sum over 32 lanes without overflowing 32 bits.
template <class Ops>
CORE_FN void add_to_bin(Shared& s, unsigned digit, u64 w) {
    constexpr int SPLIT = 22;
    const unsigned peers = Ops::match_any(digit);
    const unsigned low = Ops::reduce_add(peers, static_cast<unsigned>(w & ((1ull << SPLIT) - 1)));
    const unsigned high = Ops::reduce_add(peers, static_cast<unsigned>(w >> SPLIT));
    if (digit < BINS && Ops::lowest_lane(peers)) {
        Ops::atomic_add(&s.weight[digit], (static_cast<u64>(high) << SPLIT) + low);
        Ops::atomic_add(&s.count[digit], static_cast<unsigned>(Ops::popcount(peers)));
    }
}

// Reduces every thread's v with `combine` (sum or max) by a tree in shared memory; every thread gets the result.
template <class Ops, class Combine>
CORE_FN u64 block_reduce(u64 v, const Combine& combine) {
    Shared& s = *reinterpret_cast<Shared*>(Ops::shared());
    const int t = Ops::thread();
    s.partial[t] = v;
    Ops::sync();
    for (int stride = THREADS / 2; stride > 0; stride >>= 1) {
        if (t < stride) s.partial[t] = combine(s.partial[t], s.partial[t + stride]);
        Ops::sync();
    }
    const u64 result = s.partial[0];
    Ops::sync();  // partial is reused by the next reduction
    return result;
}

// ---- one weighted selection over the row

// What each selection aims at, from the total weight W > 0 it selects over (TokenDraw's roundings).
struct RankTarget {  // top-k: the k-th candidate, or the last when there are fewer
    u64 k;
    CORE_FN u64 operator()(u64 count) const { return (count < k ? count : k) - 1; }
};
struct ReachTarget {  // top-p: where the running weight first reaches ceil(top_p W)
    double top_p;
    CORE_FN u64 operator()(u64 total) const {
        const u64 reach = static_cast<u64>(ceil(dmul(top_p, static_cast<double>(total))));
        return (reach < 1 ? 1 : reach > total ? total : reach) - 1;
    }
};
struct LandingTarget {  // the draw: floor(uniform W), below W
    double uniform;
    CORE_FN u64 operator()(u64 total) const {
        const u64 landing = static_cast<u64>(floor(dmul(uniform, static_cast<double>(total))));
        return landing > total - 1 ? total - 1 : landing;
    }
};

// The candidate e with W(keys > e) <= target < W(keys >= e), W summing weight(i, key) over the elements whose key(i)
// is not 0, in descending key order, and target = target_of(W(all)) (which must be below W(all)): the first pass's
// histogram holds every weight, so the total costs no pass of its own. 0 when every weight is 0.
template <class Ops, class Target, class Key, class Weight>
CORE_FN u64 select(int vocab, const Target& target_of, const Key& key, const Weight& weight) {
    Shared& s = *reinterpret_cast<Shared*>(Ops::shared());
    const int t = Ops::thread();
    u64 prefix = 0, above = 0, target = 0;  // target: thread 0's
    for (int shift = 64 - DIGIT_BITS; shift >= 0; shift -= DIGIT_BITS) {
        for (int b = t; b < BINS; b += THREADS) {
            s.weight[b] = 0;
            s.count[b] = 0;
        }
        Ops::sync();
        const int high = shift + DIGIT_BITS;  // bits above this digit must equal the prefix's
        for (int base = 0; base < vocab; base += THREADS) {  // whole warps every iteration: add_to_bin is collective
            const int i = base + t;
            unsigned digit = BINS;
            u64 w = 0;
            if (i < vocab) {
                const u64 k = key(i);
                if (k != 0 && (high >= 64 || (k >> high) == (prefix >> high))) {
                    w = weight(i, k);
                    if (w != 0) digit = static_cast<unsigned>(k >> shift) & (BINS - 1);
                }
            }
            add_to_bin<Ops>(s, digit, w);
        }
        Ops::sync();
        if (t < SCAN_LANES) {  // lane l sums bins 255 - 8l down to 248 - 8l
            u64 sum = 0;
            for (int j = 0; j < BINS_PER_LANE; j++) sum += s.weight[BINS - 1 - t * BINS_PER_LANE - j];
            s.lane_weight[t] = sum;
        }
        Ops::sync();
        if (t == 0) {  // walk the bins from the highest digit down to the one the target falls in
            if (high == 64) {
                u64 total = 0;
                for (int lane = 0; lane < SCAN_LANES; lane++) total += s.lane_weight[lane];
                s.total = total;
                target = total == 0 ? 0 : target_of(total);
            }
            u64 acc = above;
            int lane = 0;
            while (lane < SCAN_LANES - 1 && acc + s.lane_weight[lane] <= target) acc += s.lane_weight[lane++];
            int digit = BINS - 1 - lane * BINS_PER_LANE;
            const int last = digit - BINS_PER_LANE + 1;
            while (digit > last && acc + s.weight[digit] <= target) acc += s.weight[digit--];
            s.prefix = prefix | static_cast<u64>(digit) << shift;
            s.above = acc;
            s.chosen_count = s.count[digit];
        }
        Ops::sync();
        if (s.total == 0) return 0;  // s.total stays until the next select's first pass, many barriers on
        prefix = s.prefix;
        above = s.above;
        const unsigned int count = s.chosen_count;
        if (count == 1 || shift == 0) {
            if (shift == 0) return prefix;
            // the one candidate with this prefix (and a weight) is the answer: find its low bits
            for (int i = t; i < vocab; i += THREADS) {
                const u64 k = key(i);
                if (k != 0 && (k >> shift) == (prefix >> shift) && weight(i, k) != 0) s.found = k;
            }
            Ops::sync();
            const u64 found = s.found;
            Ops::sync();
            return found;
        }
    }
    return prefix;  // not reached: the last digit always ends the loop
}

template <class Ops>
CORE_FN void sample_rows(const float* logits, int vocab, int stride, const double* params, int* tokens) {
    const int t = Ops::thread(), r = Ops::block_x();
    const float* row = logits + static_cast<int64_t>(r) * stride;
    const double* p = params + static_cast<int64_t>(r) * PARAMS;
    const double temperature = p[0], top_p = p[2], min_p = p[3], uniform = p[4];
    const int top_k = static_cast<int>(p[1]);

    // argmax: the largest key of a non-NaN logit (lowest id on ties); none when all are NaN -> id 0
    u64 best = 0;
    for (int i = t; i < vocab; i += THREADS) {
        const float v = row[i];
        if (v == v) {
            const u64 k = key_of(v, i);
            if (k > best) best = k;
        }
    }
    best = block_reduce<Ops>(best, [](u64 a, u64 b) { return a > b ? a : b; });
    const int argmax = best == 0 ? 0 : id_of(best);
    const float max = row[argmax];
    if (!(temperature > 0) || (float_bits(max) & 0x7f800000u) == 0x7f800000u) {  // greedy, or a non-finite maximum
        if (t == 0) tokens[r] = argmax;
        return;
    }

    const float lowest = fsub(max, fmul(WINDOW, static_cast<float>(temperature)));
    const double scaled_max = ddiv(static_cast<double>(max), temperature);
    const auto candidate = [&](int i) -> u64 {
        const float v = row[i];
        return v != -INFINITY && v >= lowest ? key_of(v, i) : 0;
    };
    const auto weight_of = [&](int i) -> u64 {
        return fixed_exp(dsub(ddiv(static_cast<double>(row[i]), temperature), scaled_max));
    };
    const auto one = [](int, u64) -> u64 { return 1; };

    // top-k: the k-th candidate's key bounds the kept ones from below (the last candidate's when there are fewer)
    const u64 kth = top_k > 0 ? select<Ops>(vocab, RankTarget{static_cast<u64>(top_k)}, candidate, one) : 0;
    // min-p: candidates weighing at least min_p times the best's 2^43
    const double min_weight = dmul(min_p, static_cast<double>(1ull << WEIGHT_BITS));
    const auto kept_weight = [&](int i, u64 key) -> u64 {
        if (key < kth) return 0;
        const u64 w = weight_of(i);
        return min_p > 0 && !(static_cast<double>(w) >= min_weight) ? 0 : w;
    };

    // top-p: the shortest prefix reaching ceil(top_p * total) ends at the candidate where that target is crossed
    u64 cut = kth;
    if (top_p < 1) cut = select<Ops>(vocab, ReachTarget{top_p}, candidate, kept_weight);

    // the draw: the first kept candidate whose running weight exceeds floor(uniform * kept total)
    const auto drawn_weight = [&](int i, u64 key) -> u64 { return key < cut ? 0 : kept_weight(i, key); };
    const u64 chosen = select<Ops>(vocab, LandingTarget{uniform}, candidate, drawn_weight);
    if (chosen == 0) {  // every weight 0: max / temperature overflowed
        if (t == 0) tokens[r] = argmax;
        return;
    }
    if (t == 0) tokens[r] = id_of(chosen);
}

}  // namespace tramontane::sampling
