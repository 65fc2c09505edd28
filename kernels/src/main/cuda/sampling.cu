// Token sampling on the device: one CTA per draw over fp32 logits [numRows][vocab], the twin of the engine's CPU
// Sampler (io.kindling.backend.cpu.Sampler). Per draw: the top-K logprobs of the raw row, then the draw's logit
// adjustments (min_tokens + penalties) on a private copy of the row, then greedy (first index of the max) or
// temperature, min-p, top-k (keeping ties with the k-th), top-p, and the host's uniform u inverted over the kept
// tokens in token id order.
//
// Determinism: no floating-point atomics; every floating-point reduction and prefix sum has a fixed association
// (warp butterflies / Kogge-Stone, then across the 32 warps), and the only atomics add integers, exact in any order,
// so a draw's token depends only on its row and its parameters. Thresholds (k-th logit, top-p boundary, k-th
// logprob) are found by radix select over order-preserving keys of the float bits, instead of sorting the vocab:
// four passes of 8 bits, each one read of the row into a 256-bin histogram of counts or of fixed-point masses.
//
// Two documented differences from the CPU. The top-p boundary is a logit threshold, so tokens tied with the last
// kept token are all kept here, where the CPU keeps only those before it in best-first (lower id) order. And top-p
// adds its masses in fixed point (each exp(v - m), the largest being 1, rounded to a multiple of 2^-40 so that
// integer atomics add them exactly; the target is top_p times their total, rounded up), where the CPU adds doubles:
// the two can keep a different last token only where the cumulative mass comes within that rounding (at most 2^-41
// a token) of the target. Tokens below 2^-41 round to nothing, which matters only for a top_p within their total
// mass (at most vocab * 2^-41 of the kept mass) of 1.
#include "common.cuh"

#include <cstddef>
#include <cstdint>

namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxLogprobs = 20;
constexpr unsigned kFull = 0xffffffffu;
constexpr int kStepIds = 128;         // ids a warp reads per step in invert_cdf: four per lane, one 16-byte load
constexpr int kMaxSegments = 2048;    // invert_cdf's segments of whole steps: 128 ids each up to a 262,144 vocab
constexpr int kBins = 256;            // radix_select's digits: 8 bits of the key a pass
constexpr double kMassScale = 1099511627776.0;  // 2^40: fixed_mass's unit
constexpr int kPieceBits = 21;        // histogram_add's pieces of a mass (< 2^41): 32 of each sum below 2^32

// One draw's parameters, written byte by byte by GpuSampler.java: keep the two in step.
struct DrawParams {
    double top_p;              // 1 keeps all
    double log_min_p;          // ln(min_p); -inf: min-p off
    double u;                  // the uniform the draw inverts, in [0, 1)
    int row;                   // logits row
    float temperature;         // 0: greedy
    int top_k;                 // 0: all
    int num_logprobs;          // -1: none
    int adj_begin;             // this draw's adjustments are [adj_begin, adj_end)
    int adj_end;
    float repetition_penalty;
    int unused;
};
static_assert(sizeof(DrawParams) == 56, "GpuSampler.PARAMS_BYTES");
static_assert(offsetof(DrawParams, row) == 24 && offsetof(DrawParams, adj_begin) == 40 &&
              offsetof(DrawParams, repetition_penalty) == 48, "GpuSampler writes these offsets");

// logits[token] = (repeated ? (v > 0 ? v / penalty : v * penalty) : v) + additive (LogitAdjustments.java).
struct Adjustment {
    int token;
    int repeated;
    float additive;
};
static_assert(sizeof(Adjustment) == 12, "GpuSampler.ADJUSTMENT_BYTES");

struct DrawResult {
    int token;                       // -1: the row cannot be sampled (its largest tempered logit is not finite)
    int num_logprobs;                // entries written below; -1 when not asked
    int logprob_ids[kMaxLogprobs];   // best first, ties: lower id
    float logprobs[kMaxLogprobs];
};
static_assert(sizeof(DrawResult) == 168, "GpuSampler.RESULT_BYTES");

// Unsigned order of the key == float order; -0 and +0 share a key because they compare equal (as TokenRanking).
__device__ __forceinline__ uint32_t order_key(float v) {
    const uint32_t b = __float_as_uint(__fadd_rn(v, 0.0f));
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ float key_value(uint32_t k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

struct Add {
    template <typename T>
    __device__ T operator()(T a, T b) const { return a + b; }
};
struct Max {
    template <typename T>
    __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};
struct Min {
    template <typename T>
    __device__ T operator()(T a, T b) const { return a < b ? a : b; }
};

// Reduction over the block; every thread gets the result. Every lane of a butterfly combines the same two values
// (op is commutative), so all threads agree bit for bit.
template <typename T, typename Op>
__device__ __forceinline__ T block_reduce(T v, T* scratch, Op op) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(kFull, v, o));
    __syncthreads();  // the previous user of scratch has read it
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = scratch[lane];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(kFull, v, o));
    return v;
}

// Inclusive prefix sum over the lanes in lane order (Kogge-Stone); lane 31 gets the warp's total.
template <typename T>
__device__ __forceinline__ T warp_inclusive_scan(T x) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const T y = __shfl_up_sync(kFull, x, o);
        if (lane >= o) x += y;
    }
    return x;
}

// Exclusive prefix sum over the threads in thread order; `total` gets the sum of all.
template <typename T>
__device__ __forceinline__ T block_exclusive_scan(T v, T* scratch, T& total) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const T x = warp_inclusive_scan(v);
    T before = __shfl_up_sync(kFull, x, 1);
    if (lane == 0) before = T(0);
    __syncthreads();
    if (lane == 31) scratch[warp] = x;
    __syncthreads();
    if (warp == 0) scratch[lane] = warp_inclusive_scan(scratch[lane]);
    __syncthreads();
    total = scratch[kWarps - 1];
    return warp == 0 ? before : scratch[warp - 1] + before;
}

struct Scratch {
    double d[kWarps];
    int i[kWarps];
    uint32_t u[kWarps];
    unsigned long long ull[kWarps];
    int top_ids[kMaxLogprobs];
    float top_values[kMaxLogprobs];
    double segment_mass[kMaxSegments];  // invert_cdf's
    int segment_last[kMaxSegments];
    double crossing_base;
    int crossing;
    uint32_t count_bins[kBins];  // radix_select's histograms
    unsigned long long mass_bins[kBins];
    uint32_t radix_prefix;
    int radix_done;
};

// A token's exp(v - m), in (0, 1], in fixed point: the top-p histograms add these with integer atomics, exact in any
// order (a sum of doubles depends on it). 2^40 keeps a row's sum below 2^64 for a vocab below 2^24, and rounds each
// mass by at most 2^-41, far below the gaps between a row's cumulative masses.
__device__ __forceinline__ unsigned long long fixed_mass(float d) {
    return __double2ull_rn(exp(static_cast<double>(d)) * kMassScale);
}

// bins[bin] += x (a count, 0 or 1) for each lane; every lane of the warp calls it. Lanes in one bin (in the first
// pass a warp's 32 tokens fall into a few) add their count in one atomic: atomics on one address serialize.
__device__ __forceinline__ void histogram_add(uint32_t* bins, uint32_t bin, uint32_t x) {
    if (__ballot_sync(kFull, x != 0) == 0) return;
    const unsigned peers = __match_any_sync(kFull, x != 0 ? bin : kBins);
    if (x != 0 && __ffs(peers) - 1 == (threadIdx.x & 31)) atomicAdd(bins + bin, __popc(peers));
}

// *bin += x, exactly, with 32-bit atomics: a 64-bit atomicAdd on shared memory is a compare-and-swap loop, which
// contending warps retry. The carry out of the low word goes to the high word, so the pair ends as the exact sum
// whatever the order.
__device__ __forceinline__ void add_u64(unsigned long long* bin, unsigned long long x) {
    uint32_t* word = reinterpret_cast<uint32_t*>(bin);  // little-endian: the low word first
    const uint32_t low = static_cast<uint32_t>(x);
    const uint32_t old = atomicAdd(word, low);
    const uint32_t high = static_cast<uint32_t>(x >> 32) + (old + low < old ? 1u : 0u);
    if (high != 0) atomicAdd(word + 1, high);
}

// bins[bin] += x (a fixed-point mass below 2^41) for each lane with x != 0; every lane of the warp calls it. A lane
// alone in its bin adds its own; the lanes sharing a bin first sum theirs (two 32-bit warp reductions of 21- and
// 20-bit pieces, exact), then one lane adds the sum.
__device__ __forceinline__ void histogram_add(unsigned long long* bins, uint32_t bin, unsigned long long x) {
    const int lane = threadIdx.x & 31;
    if (__ballot_sync(kFull, x != 0) == 0) return;
    const unsigned peers = __match_any_sync(kFull, x != 0 ? bin : kBins);
    const bool leads = x != 0 && __ffs(peers) - 1 == lane;
    if (leads && peers == (1u << lane)) add_u64(bins + bin, x);
    unsigned shared = __ballot_sync(kFull, leads && peers != (1u << lane));
    while (shared != 0) {  // one shared bin at a time, the whole warp reducing (x = 0 outside the bin)
        const int leader = __ffs(shared) - 1;
        shared &= shared - 1;
        const bool in = (__shfl_sync(kFull, peers, leader) >> lane) & 1u;
        const uint32_t low = __reduce_add_sync(kFull, in ? static_cast<uint32_t>(x) & ((1u << kPieceBits) - 1) : 0u);
        const uint32_t high = __reduce_add_sync(kFull, in ? static_cast<uint32_t>(x >> kPieceBits) : 0u);
        if (lane == leader) add_u64(bins + bin, (static_cast<unsigned long long>(high) << kPieceBits) + low);
    }
}

// Radix select: the largest key t with F(t) >= goal, F(t) the sum of weigh(v, key) over the row's tokens with a key
// >= t (non-increasing in t), the same threshold a binary search over t would find. Four passes of 8 bits, most
// significant first; each reads the row once into a histogram (bins, kBins of them) of the digit of the tokens
// whose higher digits are the prefix found so far, and one warp scans the bins from the top for the one where
// the weight at or above it reaches the goal. The goal is goal_of(F(0)), the weight of the row; a goal above it is
// reached by no key: 0 is returned (no threshold). Weights are integers (counts, fixed-point masses), so every sum
// is exact and the result independent of the order of the atomics. Every thread returns the same key.
template <typename T, typename Weigh, typename Goal>
__device__ uint32_t radix_select(const float* w, int vocab, T* bins, Weigh weigh, Goal goal_of, Scratch& s) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    for (int b = threadIdx.x; b < kBins; b += kThreads) bins[b] = 0;
    __syncthreads();
    uint32_t prefix = 0;
    T above = 0;  // warp 0's: the weight of the keys above the prefix's range
    T goal = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        const uint32_t high_digits = shift == 24 ? 0u : ~0u << (shift + 8);
        for (int base = warp * 32; base < vocab; base += kThreads) {  // whole warps: histogram_add is warp-wide
            const int i = base + lane;
            uint32_t key = 0;
            T x = 0;
            if (i < vocab) {
                const float v = w[i];
                key = order_key(v);
                if ((key & high_digits) == prefix) x = weigh(v, key);
            }
            histogram_add(bins, (key >> shift) & (kBins - 1), x);
        }
        __syncthreads();
        if (warp == 0) {  // lane l scans bins 255 - 8l down to 248 - 8l, then zeroes them for the next pass
            const int top = kBins - 1 - 8 * lane;
            T own = 0;
#pragma unroll
            for (int j = 0; j < 8; ++j) own += bins[top - j];
            const T inclusive = warp_inclusive_scan(own);
            bool done = false;
            if (shift == 24) {
                const T total = __shfl_sync(kFull, inclusive, 31);
                goal = goal_of(total);
                done = goal > total;
            }
            T reached = above + (inclusive - own);  // the weight above this lane's bins
            int found = -1;
            T found_above = 0;
#pragma unroll
            for (int j = 0; j < 8; ++j) {
                const T h = bins[top - j];
                bins[top - j] = 0;
                if (found < 0 && reached + h >= goal) {
                    found = j;
                    found_above = reached;
                }
                reached += h;
            }
            // the first lane with a hit holds the highest bin reaching the goal; one does: F(prefix) >= goal
            const int winner = __ffs(__ballot_sync(kFull, found >= 0)) - 1;
            if (!done) {  // the winner's bin: its lane's top bin less its offset (each lane has its own top)
                const int bin = kBins - 1 - 8 * winner - __shfl_sync(kFull, found, winner);
                prefix |= static_cast<uint32_t>(bin) << shift;
                above = __shfl_sync(kFull, found_above, winner);
            }
            if (lane == 0) {
                s.radix_prefix = prefix;
                s.radix_done = done;
            }
        }
        __syncthreads();
        if (s.radix_done) return 0;
        prefix = s.radix_prefix;
    }
    return prefix;
}

// Four consecutive ids from i (a multiple of 4): one 16-byte load where the row is aligned and all four exist;
// -inf (never kept) past the vocab.
__device__ __forceinline__ float4 load4(const float* w, int i, int vocab, bool aligned) {
    if (aligned && i + 4 <= vocab) return *reinterpret_cast<const float4*>(w + i);
    return make_float4(i < vocab ? w[i] : -INFINITY, i + 1 < vocab ? w[i + 1] : -INFINITY,
                       i + 2 < vocab ? w[i + 2] : -INFINITY, i + 3 < vocab ? w[i + 3] : -INFINITY);
}

// Calls f(v, id) on every token of the row, each thread on its own (the order is free: f only takes a maximum).
// Whole 16-byte loads where the row is aligned, unrolled so that several are in flight a thread: one 4-byte load
// at a time read greedy's rows at 74% of the copy bandwidth (58 us for 256 rows of 128,256 logits, H100).
template <typename F>
__device__ __forceinline__ void for_each_token(const float* w, int vocab, F f) {
    const int whole = kd::aligned16(w) ? vocab / 4 : 0;  // float4s
    const float4* w4 = reinterpret_cast<const float4*>(w);
#pragma unroll 4
    for (int q = threadIdx.x; q < whole; q += kThreads) {
        const float4 v = w4[q];
        f(v.x, 4 * q);
        f(v.y, 4 * q + 1);
        f(v.z, 4 * q + 2);
        f(v.w, 4 * q + 3);
    }
    for (int i = 4 * whole + threadIdx.x; i < vocab; i += kThreads) f(w[i], i);
}

__device__ __forceinline__ uint32_t block_max_key(const float* w, int vocab, Scratch& s) {
    uint32_t best = 0;
    for_each_token(w, vocab, [&](float v, int) { best = max(best, order_key(v)); });
    return block_reduce(best, s.u, Max());
}

// The k (>= 1, <= vocab) best tokens of the raw row under log_softmax, best first (ties: lower id). The sum of
// exp is in double, as the CPU's; the values are ((logit - max) in float, then - log(sum) in double).
__device__ void top_logprobs(const float* row, int vocab, int k, DrawResult* out, Scratch& s) {
    const uint32_t max_key = block_max_key(row, vocab, s);
    const float m = key_value(max_key);
    double sum = 0;
    for (int i = threadIdx.x; i < vocab; i += kThreads) sum += exp(static_cast<double>(row[i] - m));
    const double log_sum = log(block_reduce(sum, s.d, Add()));

    // the k-th best key: the largest t with at least k keys >= t (k <= vocab, so one is)
    const uint32_t kth = radix_select(row, vocab, s.count_bins, [](float, uint32_t) { return 1u; },
                                      [=](uint32_t) { return static_cast<uint32_t>(k); }, s);
    // Gather, in id order within each thread's contiguous chunk: every key above the k-th (fewer than k), then
    // the lowest ids of those equal to it until k are taken.
    const int chunk = (vocab + kThreads - 1) / kThreads;
    const int begin = min(static_cast<int>(threadIdx.x) * chunk, vocab);
    const int end = min(begin + chunk, vocab);
    int above = 0;
    int equal = 0;
    for (int i = begin; i < end; ++i) {
        const uint32_t key = order_key(row[i]);
        above += key > kth;
        equal += key == kth;
    }
    int num_above;
    int num_equal;
    int above_slot = block_exclusive_scan(above, s.i, num_above);
    int equal_slot = num_above + block_exclusive_scan(equal, s.i, num_equal);
    for (int i = begin; i < end; ++i) {
        const uint32_t key = order_key(row[i]);
        if (key > kth) {
            s.top_ids[above_slot] = i;
            s.top_values[above_slot++] = row[i];
        } else if (key == kth && equal_slot < k) {
            s.top_ids[equal_slot] = i;
            s.top_values[equal_slot++] = row[i];
        }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int a = 1; a < k; ++a) {  // insertion sort of at most 20: higher key first, then lower id
            const int id = s.top_ids[a];
            const float v = s.top_values[a];
            const uint32_t key = order_key(v);
            int b = a - 1;
            while (b >= 0 && (order_key(s.top_values[b]) < key ||
                              (order_key(s.top_values[b]) == key && s.top_ids[b] > id))) {
                s.top_ids[b + 1] = s.top_ids[b];
                s.top_values[b + 1] = s.top_values[b];
                --b;
            }
            s.top_ids[b + 1] = id;
            s.top_values[b + 1] = v;
        }
        for (int j = 0; j < k; ++j) {
            out->logprob_ids[j] = s.top_ids[j];
            out->logprobs[j] = static_cast<float>(static_cast<double>(s.top_values[j] - m) - log_sum);
        }
    }
}

// The smallest float f with (double) v >= floor exactly when v >= f, for every float v: the min-p test in float.
__device__ __forceinline__ float float_floor(double floor) {
    float f = static_cast<float>(floor);
    if (static_cast<double>(f) < floor) f = nextafterf(f, INFINITY);
    return f;
}

// Which tokens a random draw keeps: min-p's floor, top-k's and top-p's smallest key.
struct Kept {
    float m;          // the row's largest logit
    float floor;      // float_floor of min-p's
    uint32_t min_key;

    __device__ bool operator()(float v) const { return v > -INFINITY && v >= floor && order_key(v) >= min_key; }
};

// Inverse CDF in token id order: the first kept token whose cumulative mass exceeds u times the total. Three levels,
// each summing in id order: segments of whole warp steps (a step is 128 ids, lane l's four at 4l..4l+3: coalesced
// 16-byte loads) whose masses the warps store in shared memory in one read of the row; threads own runs of
// segments, and a scan over the runs finds the thread, its walk the segment; one warp then walks that segment,
// lanes in id order by a scan over their four-token masses. The last two only re-read one segment. Where rounding
// (the lanes' association differs from the segment's) leaves the crossing past the segment's end, its last kept
// token is drawn, the token the segment level chose the segment for.
__device__ void invert_cdf(const float* w, int vocab, Kept kept, double u, DrawResult* out, Scratch& s) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const bool aligned = kd::aligned16(w);
    const int steps = (vocab + kStepIds * kMaxSegments - 1) / (kStepIds * kMaxSegments);  // per segment
    const int segment_ids = steps * kStepIds;
    const int segments = (vocab + segment_ids - 1) / segment_ids;
    // A lane's four tokens of a step (ids i..i + 3, read by quad(i)): each one's mass, exp(v - m) if kept, else 0,
    // and bit k set where token i + k is kept. The exp is in float: the CPU's sampler takes it in double, and the two
    // differ by a few float ulps, a token only where u lands that close to a CDF boundary (SamplerGpuTest's
    // tolerance).
    auto masses = [&](float4 v, double (&e)[4]) {
        const float vs[4] = {v.x, v.y, v.z, v.w};
        unsigned mask = 0;
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const bool in = kept(vs[k]);
            e[k] = in ? static_cast<double>(expf(vs[k] - kept.m)) : 0.0;
            mask |= static_cast<unsigned>(in) << k;
        }
        return mask;
    };
    auto quad = [&](int i, double (&e)[4]) { return masses(load4(w, i, vocab, aligned), e); };

    // A warp's steps in order: segments g = warp, warp + kWarps, ..., each's steps j ascending. Each step's load is
    // issued before the previous step's sums and the segment's reduction, so that one is always in flight.
    auto step_id = [&](int g, int j) { return g * segment_ids + j * kStepIds + 4 * lane; };
    float4 next = warp < segments ? load4(w, step_id(warp, 0), vocab, aligned) : make_float4(0.f, 0.f, 0.f, 0.f);
    for (int g = warp; g < segments; g += kWarps) {
        double mass = 0;
        int last = -1;
        for (int j = 0; j < steps; ++j) {
            const float4 v = next;
            const int next_g = j + 1 < steps ? g : g + kWarps;
            if (next_g < segments) next = load4(w, step_id(next_g, j + 1 < steps ? j + 1 : 0), vocab, aligned);
            double e[4];
            const unsigned mask = masses(v, e);
            if (mask != 0) last = step_id(g, j) + 31 - __clz(mask);
            mass += ((e[0] + e[1]) + e[2]) + e[3];
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            mass += __shfl_xor_sync(kFull, mass, o);
            last = max(last, __shfl_xor_sync(kFull, last, o));
        }
        if (lane == 0) {
            s.segment_mass[g] = mass;
            s.segment_last[g] = last;
        }
    }
    __syncthreads();

    const int per = (segments + kThreads - 1) / kThreads;
    const int first_segment = min(static_cast<int>(threadIdx.x) * per, segments);
    const int end_segment = min(first_segment + per, segments);
    double own = 0;
    int last = -1;
    for (int g = first_segment; g < end_segment; ++g) {
        own += s.segment_mass[g];
        last = max(last, s.segment_last[g]);
    }
    double total;
    const double before = block_exclusive_scan(own, s.d, total);
    const double target = u * total;
    // before + own is exactly what the walk below reaches at this run's last kept segment
    const int first = block_reduce(last >= 0 && before + own > target ? static_cast<int>(threadIdx.x) : kThreads,
                                   s.i, Min());
    const int last_kept = block_reduce(last, s.i, Max());
    if (first == kThreads) {  // rounding left u * total at or past the end: the last kept token
        if (threadIdx.x == 0) out->token = last_kept;
        return;
    }
    if (threadIdx.x == first) {
        double cumulative = 0;
        for (int g = first_segment; g < end_segment; ++g) {
            if (s.segment_last[g] < 0) continue;
            const double next = cumulative + s.segment_mass[g];
            if (before + next > target) {
                s.crossing = g;
                s.crossing_base = before + cumulative;
                break;
            }
            cumulative = next;
        }
    }
    __syncthreads();
    if (warp != 0) return;
    const int g = s.crossing;
    double base = s.crossing_base;
    int token = -1;
    for (int j = 0; j < steps && token < 0; ++j) {
        const int i = g * segment_ids + j * kStepIds + 4 * lane;
        double e[4];
        const unsigned mask = quad(i, e);
        const double inclusive = warp_inclusive_scan(((e[0] + e[1]) + e[2]) + e[3]);
        double run = __shfl_up_sync(kFull, inclusive, 1);
        if (lane == 0) run = 0;
        int mine = -1;
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            if (mine < 0 && (mask >> k & 1u)) {
                run += e[k];
                if (base + run > target) mine = i + k;
            }
        }
        const unsigned found = __ballot_sync(kFull, mine >= 0);
        if (found != 0) token = __shfl_sync(kFull, mine, __ffs(found) - 1);
        base += __shfl_sync(kFull, inclusive, 31);
    }
    if (lane == 0) out->token = token >= 0 ? token : s.segment_last[g];
}

}  // namespace

// grid = number of draws, block = 1024. work: [draws][vocab] fp32 scratch, one private row copy per draw that
// changes its row, so draws sharing a logits row never see each other's adjustments. Bounded to 32 registers so two
// draws share an SM.
extern "C" __global__ void __launch_bounds__(kThreads, 2)
kd_sample(const float* __restrict__ logits, int vocab, const DrawParams* __restrict__ params,
          const Adjustment* __restrict__ adjustments, float* __restrict__ work, DrawResult* __restrict__ results) {
    __shared__ Scratch s;
    const DrawParams p = params[blockIdx.x];
    const float* row = logits + static_cast<size_t>(p.row) * vocab;
    DrawResult* out = results + blockIdx.x;
    const int tid = threadIdx.x;

    const int num_logprobs = min(p.num_logprobs, vocab);
    if (num_logprobs > 0) top_logprobs(row, vocab, num_logprobs, out, s);
    if (tid == 0) out->num_logprobs = num_logprobs;

    // The private copy: adjustments, then temperature, each one float32 operation as on the CPU (the _rn
    // intrinsics keep nvcc from fusing a multiply and an add into one FMA). A draw that would copy the row
    // unchanged (no adjustments; greedy, or temperature 1: x / 1 is x, and a NaN's payload is canonicalized by
    // order_key anyway) reads the row in place: the copy was a read and a write of the whole row.
    const bool greedy = p.temperature == 0.f;
    const bool in_place = p.adj_begin == p.adj_end && (greedy || p.temperature == 1.f);
    const float* w = row;  // what the draw reads from here on
    if (!in_place) {
        float* copy = work + static_cast<size_t>(blockIdx.x) * vocab;
        w = copy;
        for (int i = tid; i < vocab; i += kThreads) copy[i] = greedy ? row[i] : __fdiv_rn(row[i], p.temperature);
        __syncthreads();
        for (int j = p.adj_begin + tid; j < p.adj_end; j += kThreads) {
            const Adjustment a = adjustments[j];
            float v = row[a.token];
            if (a.repeated) {
                v = v > 0.f ? __fdiv_rn(v, p.repetition_penalty) : __fmul_rn(v, p.repetition_penalty);
            }
            v = __fadd_rn(v, a.additive);
            copy[a.token] = greedy ? v : __fdiv_rn(v, p.temperature);
        }
        __syncthreads();
    }

    if (greedy) {  // first index of the max: the key packs (logit, ~index), so the max is the lowest tied index
        unsigned long long best = 0;
        for_each_token(w, vocab, [&](float v, int i) {
            best = max(best, (static_cast<unsigned long long>(order_key(v)) << 32) | ~static_cast<uint32_t>(i));
        });
        best = block_reduce(best, s.ull, Max());
        if (tid == 0) out->token = static_cast<int>(~static_cast<uint32_t>(best));
        return;
    }

    const uint32_t max_key = block_max_key(w, vocab, s);
    const float m = key_value(max_key);
    if (!(m > -INFINITY && m < INFINITY)) {  // a fully masked row, or a NaN: the CPU refuses it too
        if (tid == 0) out->token = -1;
        return;
    }
    const float floor = float_floor(static_cast<double>(m) + p.log_min_p);  // min-p: exp(v - m) >= min_p
    auto candidate = [&](float v) { return v > -INFINITY && v >= floor; };

    uint32_t min_key = 0;  // kept = candidates with a key >= min_key
    if (p.top_k > 0) {  // the k-th best candidate's key, ties with it staying; none when top_k >= the candidates
        const uint32_t k = static_cast<uint32_t>(p.top_k);
        min_key = radix_select(w, vocab, s.count_bins, [&](float v, uint32_t) { return candidate(v) ? 1u : 0u; },
                               [=](uint32_t n) { return k < n ? k : n + 1; }, s);
    }
    if (p.top_p < 1.0) {  // the highest key whose kept tokens at or above it reach top_p of the kept mass
        const double top_p = p.top_p;
        const uint32_t kept_from = min_key;
        min_key = radix_select(
            w, vocab, s.mass_bins,
            [&](float v, uint32_t key) { return candidate(v) && key >= kept_from ? fixed_mass(v - m) : 0ull; },
            [=](unsigned long long total) {  // ceil(top_p * total), at least 1 and at most total
                const unsigned long long t = __double2ull_ru(top_p * static_cast<double>(total));
                return t < 1 ? 1ull : (t > total ? total : t);
            },
            s);
    }

    invert_cdf(w, vocab, Kept{m, floor, min_key}, p.u, out, s);
}

// Asynchronous scheduling: the next step's deferred input ids are the tokens this sampler's last launch drew, taken
// where kd_sample left them, so the host queues that step before it has read them. input_ids[token_indices[i]] =
// results[draw_indices[i]].token. A failed draw (-1) gives 0: the host's read of that result throws (the engine's
// ModelOutputException), and meanwhile the id must still index the embedding table.
extern "C" __global__ void kd_take_sampled(const DrawResult* __restrict__ results,
                                           const int* __restrict__ draw_indices,
                                           const int* __restrict__ token_indices, int n, int* __restrict__ input_ids) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        input_ids[token_indices[i]] = max(results[draw_indices[i]].token, 0);
    }
}
