// Paged attention over the bf16 KV cache (per layer, K and V each [numBlocks][numKvHeads][blockSize][headDim]),
// read through each sequence's block table. Queries come from the fp32 qkv rows and are rounded to bf16 first, so
// both kernels compute softmax(q_bf16 . k / sqrt(headDim)) v over keys 0..pos (and within the sliding window),
// query token i of a sequence with context L and q_len Q being at position L - Q + i.
//
// - decode (q_len 1): one block per (sequence, kv head, partition of the context); the block computes every q head
//   of the GQA group, so each K/V row is read once. Long contexts are split into up to kMaxPartitions partitions
//   whose results a second kernel combines by their max and sum in a fixed order (flash-decoding).
// - prefill (q_len > 1): one block per (64 query tokens of one sequence, q head); flash-attention over key tiles of
//   64 with online softmax in fp32 on tensor cores (mma.sync m16n8k16 bf16, P rounded to bf16 for P.V).
// No atomics: every output element is reduced in an order fixed by its own sequence's shape.
#include "common.cuh"

namespace {

constexpr int kMaxPartitions = 16;  // PagedAttention.java sizes its workspace with the same number
constexpr int kDecodeThreads = 128;
constexpr int kDecodeWarps = kDecodeThreads / 32;
constexpr int kChunk = 256;         // decode: keys whose scores sit in shared memory at once
constexpr int kTokensInFlight = 4;  // decode: K/V rows each thread group loads before using the first

constexpr int kPrefillThreads = 128;
constexpr int kPrefillRows = 64;    // query tokens per block, 16 per warp
constexpr int kPrefillKeys = 64;    // keys per tile

__device__ __forceinline__ float round_bf16(float v) { return __bfloat162float(__float2bfloat16_rn(v)); }

// A decode sequence's keys [first, ctx) split into `count` partitions of `length` keys (the last may be shorter,
// never empty: (count - 1)^2 < span because count <= span / partitionTokens + 1 and count <= 16 < partitionTokens).
struct Split {
    int count;
    int length;
};

__device__ __forceinline__ Split decode_split(int span, int partitionTokens) {
    const int count = min(kMaxPartitions, (span + partitionTokens - 1) / partitionTokens);
    return {count, (span + count - 1) / count};
}

// The first key a query at `pos` sees: max(0, pos - window + 1), written so that window = INT_MAX cannot overflow.
__device__ __forceinline__ int window_start(int pos, int window) { return pos >= window ? pos - window + 1 : 0; }

// Which elements of a head vector lane r of a token's thread group holds (8 at most). HD = 64 or 128: T = HD / 8
// lanes per token, each 8 consecutive elements (one 16-byte load). HD = 0 (any even head_dim <= 256): a whole warp
// per token, lane r holding the pairs at 2r + 64j (4-byte loads).
template <int HD>
struct Slice {
    static constexpr int kLanes = HD == 0 ? 32 : HD / 8;

    __device__ static int dim(int r, int i) { return HD == 0 ? 2 * r + 64 * (i >> 1) + (i & 1) : 8 * r + i; }

    __device__ static uint4 load(const __nv_bfloat16* row, int r, int headDim) {
        if constexpr (HD != 0) {
            return __ldg(reinterpret_cast<const uint4*>(row) + r);
        } else {
            const unsigned* pairs = reinterpret_cast<const unsigned*>(row);
            uint4 v;
            v.x = 2 * r < headDim ? __ldg(pairs + r) : 0u;
            v.y = 2 * r + 64 < headDim ? __ldg(pairs + r + 32) : 0u;
            v.z = 2 * r + 128 < headDim ? __ldg(pairs + r + 64) : 0u;
            v.w = 2 * r + 192 < headDim ? __ldg(pairs + r + 96) : 0u;
            return v;
        }
    }
};

// Eight bf16 (element 2i in the low half of word i) to floats.
__device__ __forceinline__ void unpack8(const uint4& raw, float (&v)[8]) {
    const unsigned w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        v[2 * i] = __uint_as_float(w[i] << 16);
        v[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
}

struct MaxOp {
    __device__ __forceinline__ float warp(float v) const { return kd::warp_max(v); }
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

struct SumOp {
    __device__ __forceinline__ float warp(float v) const { return kd::warp_sum(v); }
    __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};

// Max or sum of N values per thread over the block, in a fixed order; every thread gets the results. `scratch`
// holds kDecodeWarps * N floats.
template <int N, typename Op>
__device__ __forceinline__ void block_reduce_n(float (&v)[N], float* scratch, Op op) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
#pragma unroll
    for (int g = 0; g < N; ++g) v[g] = op.warp(v[g]);
    __syncthreads();
    if (lane == 0) {
#pragma unroll
        for (int g = 0; g < N; ++g) scratch[warp * N + g] = v[g];
    }
    __syncthreads();
#pragma unroll
    for (int g = 0; g < N; ++g) {
        float r = scratch[g];
#pragma unroll
        for (int w = 1; w < kDecodeWarps; ++w) r = op(r, scratch[w * N + g]);
        v[g] = r;
    }
}

template <int N>
__device__ __forceinline__ void block_max_n(float (&v)[N], float* scratch) { block_reduce_n<N>(v, scratch, MaxOp{}); }

template <int N>
__device__ __forceinline__ void block_sum_n(float (&v)[N], float* scratch) { block_reduce_n<N>(v, scratch, SumOp{}); }

// Decode. Grid (partition, kvHead * headChunks, decode item). GC q heads of the group are held in registers at
// once; a group larger than GC (MQA) is split over blockIdx.y, its K/V then read once per chunk (mostly from L2).
// Dynamic shared memory: max(GC * kChunk, kDecodeWarps * GC * headDim) floats.
template <int HD, int GC>
__device__ __forceinline__ void decode_body(
        const float* __restrict__ qkv, int qkvStride, const __nv_bfloat16* __restrict__ kCache,
        const __nv_bfloat16* __restrict__ vCache, const int* __restrict__ blockTables, int blockTableStride,
        const int* __restrict__ seqLens, const int* __restrict__ queryStartLoc, const int* __restrict__ decodeSeqs,
        int numHeads, int numKvHeads, int headDim, int blockSize, float scaleLog2, int window, int partitionTokens,
        __nv_bfloat16* __restrict__ out, float* __restrict__ partOut, float* __restrict__ partStats) {
    using S = Slice<HD>;
    constexpr int T = S::kLanes;
    constexpr int NG = 32 / T;                 // tokens a warp works on at once
    constexpr int NGT = kDecodeWarps * NG;     // tokens the block works on at once
    constexpr int U = kTokensInFlight;

    extern __shared__ float smem[];            // scores [GC][kChunk]; at the end partial outputs [warps][GC][headDim]
    __shared__ int blocks[kChunk + 1];         // physical blocks of the current chunk
    __shared__ float scratch[kDecodeWarps * GC];
    __shared__ float finalStats[2 * GC];       // max, sum per head

    const int item = blockIdx.z;
    const int part = blockIdx.x;
    const int groupSize = numHeads / numKvHeads;
    const int headChunks = (groupSize + GC - 1) / GC;
    const int kvHead = blockIdx.y / headChunks;
    const int head0 = kvHead * groupSize + (blockIdx.y % headChunks) * GC;
    const int heads = min(GC, (kvHead + 1) * groupSize - head0);
    const int seq = decodeSeqs[item];
    const int ctx = seqLens[seq];
    const int token = queryStartLoc[seq];
    const int first = window_start(ctx - 1, window);
    const Split split = decode_split(ctx - first, partitionTokens);
    if (part >= split.count) {
        return;
    }
    const int begin = first + part * split.length;
    const int end = min(ctx, begin + split.length);

    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int r = lane % T;
    const int* table = blockTables + (long long) seq * blockTableStride;
    const long long rowsPerBlock = (long long) numKvHeads * blockSize;

    float q[GC][8];
#pragma unroll
    for (int g = 0; g < GC; ++g) {
        const float* qRow = qkv + (long long) token * qkvStride + (long long) (head0 + g) * headDim;
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int d = S::dim(r, i);
            q[g][i] = g < heads && d < headDim ? round_bf16(qRow[d]) : 0.f;
        }
    }

    float m[GC];
    float lsum[GC];
    float acc[GC][8];
#pragma unroll
    for (int g = 0; g < GC; ++g) {
        m[g] = -INFINITY;
        lsum[g] = 0.f;
#pragma unroll
        for (int i = 0; i < 8; ++i) acc[g][i] = 0.f;
    }
    float* scores = smem;

    for (int c0 = begin; c0 < end; c0 += kChunk) {
        const int n = min(kChunk, end - c0);
        const int firstBlock = c0 / blockSize;
        const int numBlocks = (c0 + n - 1) / blockSize - firstBlock + 1;
        // this lane's slice of the U keys it handles from jw on, K or V, through the block table (0 past the chunk)
        auto loadRows = [&](const __nv_bfloat16* cache, int jw, uint4 (&raw)[U]) {
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int j = jw + lane / T + u * NGT;
                raw[u] = make_uint4(0u, 0u, 0u, 0u);
                if (j < n) {
                    const int key = c0 + j;
                    const long long rowIndex = blocks[key / blockSize - firstBlock] * rowsPerBlock
                            + (long long) kvHead * blockSize + key % blockSize;
                    raw[u] = S::load(cache + rowIndex * headDim, r, headDim);
                }
            }
        };
        __syncthreads();  // the previous chunk is done with blocks[] and scores
        for (int i = tid; i < numBlocks; i += kDecodeThreads) blocks[i] = table[firstBlock + i];
        __syncthreads();

        // scores (log2 domain) of the chunk's keys; lanes of a token group hold its slices of q and k
        float cmax[GC];
#pragma unroll
        for (int g = 0; g < GC; ++g) cmax[g] = -INFINITY;
        for (int jw = warp * NG; jw < n; jw += NGT * U) {  // warp-uniform trip count: shuffles below stay legal
            uint4 raw[U];
            loadRows(kCache, jw, raw);
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int j = jw + lane / T + u * NGT;
                float k[8];
                unpack8(raw[u], k);
#pragma unroll
                for (int g = 0; g < GC; ++g) {
                    if (g < heads) {
                        float dot = 0.f;
#pragma unroll
                        for (int i = 0; i < 8; ++i) dot = fmaf(q[g][i], k[i], dot);
#pragma unroll
                        for (int off = T / 2; off > 0; off >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, off);
                        const float s = dot * scaleLog2;
                        if (j < n) {
                            if (r == 0) scores[g * kChunk + j] = s;
                            cmax[g] = fmaxf(cmax[g], s);
                        }
                    }
                }
            }
        }
        block_max_n<GC>(cmax, scratch);  // its barriers also publish the scores

        // rescale what earlier chunks accumulated to the new max, then turn scores into weights
#pragma unroll
        for (int g = 0; g < GC; ++g) {
            if (g < heads) {
                const float mNew = fmaxf(m[g], cmax[g]);  // finite: every key of the chunk is visible
                const float alpha = exp2f(m[g] - mNew);
                m[g] = mNew;
                lsum[g] *= alpha;
#pragma unroll
                for (int i = 0; i < 8; ++i) acc[g][i] *= alpha;
                for (int j = tid; j < n; j += kDecodeThreads) {
                    const float p = exp2f(scores[g * kChunk + j] - mNew);
                    scores[g * kChunk + j] = p;
                    lsum[g] += p;
                }
            }
        }
        __syncthreads();

        // acc += p * v
        for (int jw = warp * NG; jw < n; jw += NGT * U) {
            uint4 raw[U];
            loadRows(vCache, jw, raw);
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int j = jw + lane / T + u * NGT;
                if (j < n) {
                    float v[8];
                    unpack8(raw[u], v);
#pragma unroll
                    for (int g = 0; g < GC; ++g) {
                        if (g < heads) {
                            const float p = scores[g * kChunk + j];
#pragma unroll
                            for (int i = 0; i < 8; ++i) acc[g][i] = fmaf(p, v[i], acc[g][i]);
                        }
                    }
                }
            }
        }
    }

    block_sum_n<GC>(lsum, scratch);
    if (tid == 0) {
#pragma unroll
        for (int g = 0; g < GC; ++g) {
            finalStats[g] = m[g];
            finalStats[GC + g] = lsum[g];
        }
    }
    // sum the token groups of each warp, then the warps in order
#pragma unroll
    for (int off = T; off < 32; off <<= 1) {
#pragma unroll
        for (int g = 0; g < GC; ++g) {
#pragma unroll
            for (int i = 0; i < 8; ++i) acc[g][i] += __shfl_xor_sync(0xffffffffu, acc[g][i], off);
        }
    }
    __syncthreads();  // scores are dead: the space takes the per-warp outputs
    float* partial = smem;
    if (lane < T) {
#pragma unroll
        for (int g = 0; g < GC; ++g) {
#pragma unroll
            for (int i = 0; i < 8; ++i) {
                const int d = S::dim(r, i);
                if (g < heads && d < headDim) partial[(warp * GC + g) * headDim + d] = acc[g][i];
            }
        }
    }
    __syncthreads();
    for (int idx = tid; idx < heads * headDim; idx += kDecodeThreads) {
        const int g = idx / headDim;
        const int d = idx - g * headDim;
        float o = partial[g * headDim + d];
#pragma unroll
        for (int w = 1; w < kDecodeWarps; ++w) o += partial[(w * GC + g) * headDim + d];
        o /= finalStats[GC + g];
        const int head = head0 + g;
        if (split.count == 1) {
            out[(long long) token * numHeads * headDim + (long long) head * headDim + d] = kd::float_to_bf16(o);
        } else {
            partOut[(((long long) item * numHeads + head) * kMaxPartitions + part) * headDim + d] = o;
        }
    }
    if (split.count > 1 && tid < heads) {
        float* stats = partStats + (((long long) item * numHeads + head0 + tid) * kMaxPartitions + part) * 2;
        stats[0] = finalStats[tid];
        stats[1] = finalStats[GC + tid];
    }
}

// ---- prefill on tensor cores ----

__device__ __forceinline__ unsigned smem_address(const void* p) {
    return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// 16 or 4 bytes global -> shared without registers; srcBytes 0 writes zeros (keys outside the range, padding).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int srcBytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_address(dst)), "l"(src),
                 "r"(srcBytes) : "memory");
}

__device__ __forceinline__ void cp_async4(void* dst, const void* src, int srcBytes) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(smem_address(dst)), "l"(src),
                 "r"(srcBytes) : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// d += a (16x16 bf16, row) * b (16x8 bf16, col), fp32 accumulators.
__device__ __forceinline__ void mma_bf16(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
    asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
            "{%0,%1,%2,%3};\n"
            : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const unsigned*>(&v);
}

__device__ __forceinline__ unsigned pack_halves(__nv_bfloat16 lo, __nv_bfloat16 hi) {
    return static_cast<unsigned>(__bfloat16_as_ushort(lo)) | (static_cast<unsigned>(__bfloat16_as_ushort(hi)) << 16);
}

// Prefill. Grid (query tile, q head); block 4 warps, warp w owning query rows 16w..16w+15 of the tile. head_dim is
// padded with zeros to HDP = 16 * KS. Shared memory (bf16, rows of HDP + 8 so fragment loads hit distinct banks):
// Q [64][LD], then K and V [STAGES][64][LD] each; key tiles are prefetched with cp.async one tile ahead.
template <int KS>
__device__ __forceinline__ void prefill_body(
        const float* __restrict__ qkv, int qkvStride, const __nv_bfloat16* __restrict__ kCache,
        const __nv_bfloat16* __restrict__ vCache, const int* __restrict__ blockTables, int blockTableStride,
        const int* __restrict__ seqLens, const int* __restrict__ queryStartLoc, const int* __restrict__ tiles,
        int numHeads, int numKvHeads, int headDim, int blockSize, float scaleLog2, int window,
        __nv_bfloat16* __restrict__ out) {
    constexpr int HDP = 16 * KS;
    constexpr int LD = HDP + 8;
    constexpr int STAGES = KS <= 8 ? 2 : 1;   // head_dim 256 keeps one stage to fit sm_80's shared memory
    constexpr bool kQInRegisters = KS <= 8;   // head_dim 256 re-reads Q fragments from shared memory
    constexpr int NT = kPrefillKeys / 8;      // n-tiles of S per warp
    constexpr int DT = HDP / 8;               // n-tiles of O per warp

    extern __shared__ __align__(16) unsigned char smemBytes[];
    __nv_bfloat16* qs = reinterpret_cast<__nv_bfloat16*>(smemBytes);
    __nv_bfloat16* ks = qs + kPrefillRows * LD;
    __nv_bfloat16* vs = ks + STAGES * kPrefillKeys * LD;

    const int seq = tiles[2 * blockIdx.x];
    const int tileStart = tiles[2 * blockIdx.x + 1];
    const int head = blockIdx.y;
    const int kvHead = head / (numHeads / numKvHeads);
    const int qBegin = queryStartLoc[seq];
    const int qLen = queryStartLoc[seq + 1] - qBegin;
    const int ctx = seqLens[seq];
    const int rows = min(kPrefillRows, qLen - tileStart);
    const int pos0 = ctx - qLen + tileStart;           // position of the tile's row 0
    const int keyLo = window_start(pos0, window);
    const int keyHi = pos0 + rows - 1;                 // last key any row of the tile sees
    const int tile0 = keyLo / kPrefillKeys * kPrefillKeys;
    const int numTiles = (keyHi - tile0) / kPrefillKeys + 1;
    const int* table = blockTables + (long long) seq * blockTableStride;
    const long long rowsPerBlock = (long long) numKvHeads * blockSize;

    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int g = lane >> 2;   // fragment row (and S column group)
    const int tq = lane & 3;   // fragment column pair

    auto loadTile = [&](int stage, int t0) {
        __nv_bfloat16* kDst = ks + stage * kPrefillKeys * LD;
        __nv_bfloat16* vDst = vs + stage * kPrefillKeys * LD;
        if ((headDim & 7) == 0) {
            constexpr int PIECES = HDP / 8;
            for (int idx = tid; idx < kPrefillKeys * PIECES; idx += kPrefillThreads) {
                const int row = idx / PIECES;
                const int c = (idx - row * PIECES) * 8;
                const int key = t0 + row;
                const bool ok = key >= keyLo && key <= keyHi && c < headDim;
                long long at = 0;
                if (ok) {
                    at = (table[key / blockSize] * rowsPerBlock + (long long) kvHead * blockSize + key % blockSize)
                            * headDim + c;
                }
                cp_async16(kDst + row * LD + c, kCache + at, ok ? 16 : 0);
                cp_async16(vDst + row * LD + c, vCache + at, ok ? 16 : 0);
            }
        } else {
            constexpr int PIECES = HDP / 2;
            for (int idx = tid; idx < kPrefillKeys * PIECES; idx += kPrefillThreads) {
                const int row = idx / PIECES;
                const int c = (idx - row * PIECES) * 2;
                const int key = t0 + row;
                const bool ok = key >= keyLo && key <= keyHi && c < headDim;
                long long at = 0;
                if (ok) {
                    at = (table[key / blockSize] * rowsPerBlock + (long long) kvHead * blockSize + key % blockSize)
                            * headDim + c;
                }
                cp_async4(kDst + row * LD + c, kCache + at, ok ? 4 : 0);
                cp_async4(vDst + row * LD + c, vCache + at, ok ? 4 : 0);
            }
        }
    };

    loadTile(0, tile0);
    cp_async_commit();

    // Q tile -> bf16 shared memory, zero beyond the valid rows and head_dim
    for (int idx = tid; idx < kPrefillRows * (HDP / 2); idx += kPrefillThreads) {
        const int row = idx / (HDP / 2);
        const int c = (idx - row * (HDP / 2)) * 2;
        float2 v = make_float2(0.f, 0.f);
        if (row < rows && c < headDim) {
            v = *reinterpret_cast<const float2*>(qkv + (long long) (qBegin + tileStart + row) * qkvStride
                                                 + (long long) head * headDim + c);
        }
        *reinterpret_cast<__nv_bfloat162*>(qs + row * LD + c) = __floats2bfloat162_rn(v.x, v.y);
    }
    __syncthreads();

    const __nv_bfloat16* qWarp = qs + warp * 16 * LD;
    unsigned qa[kQInRegisters ? KS : 1][4];
    if constexpr (kQInRegisters) {
#pragma unroll
        for (int kk = 0; kk < KS; ++kk) {
            qa[kk][0] = *reinterpret_cast<const unsigned*>(qWarp + g * LD + kk * 16 + tq * 2);
            qa[kk][1] = *reinterpret_cast<const unsigned*>(qWarp + (g + 8) * LD + kk * 16 + tq * 2);
            qa[kk][2] = *reinterpret_cast<const unsigned*>(qWarp + g * LD + kk * 16 + 8 + tq * 2);
            qa[kk][3] = *reinterpret_cast<const unsigned*>(qWarp + (g + 8) * LD + kk * 16 + 8 + tq * 2);
        }
    }

    const int row0 = warp * 16 + g;            // this thread's two query rows in the tile
    const int row1 = row0 + 8;
    const bool valid0 = row0 < rows;
    const bool valid1 = row1 < rows;
    const int pos[2] = {pos0 + row0, pos0 + row1};
    const bool valid[2] = {valid0, valid1};

    float o[DT][4];
#pragma unroll
    for (int dt = 0; dt < DT; ++dt) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;
    float mRow[2] = {-INFINITY, -INFINITY};
    float lRow[2] = {0.f, 0.f};  // this thread's share of each row's sum; the quad's shares are added at the end

    for (int it = 0; it < numTiles; ++it) {
        const int t0 = tile0 + it * kPrefillKeys;
        if constexpr (STAGES == 2) {
            if (it + 1 < numTiles) loadTile((it + 1) & 1, t0 + kPrefillKeys);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const __nv_bfloat16* kt = ks + (it % STAGES) * kPrefillKeys * LD;
        const __nv_bfloat16* vt = vs + (it % STAGES) * kPrefillKeys * LD;

        // S = Q K^T for the warp's 16 rows and the tile's 64 keys
        float s[NT][4];
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < KS; ++kk) {
            unsigned a[4];
            if constexpr (kQInRegisters) {
                a[0] = qa[kk][0];
                a[1] = qa[kk][1];
                a[2] = qa[kk][2];
                a[3] = qa[kk][3];
            } else {
                a[0] = *reinterpret_cast<const unsigned*>(qWarp + g * LD + kk * 16 + tq * 2);
                a[1] = *reinterpret_cast<const unsigned*>(qWarp + (g + 8) * LD + kk * 16 + tq * 2);
                a[2] = *reinterpret_cast<const unsigned*>(qWarp + g * LD + kk * 16 + 8 + tq * 2);
                a[3] = *reinterpret_cast<const unsigned*>(qWarp + (g + 8) * LD + kk * 16 + 8 + tq * 2);
            }
#pragma unroll
            for (int nt = 0; nt < NT; ++nt) {
                const __nv_bfloat16* kRow = kt + (nt * 8 + g) * LD + kk * 16 + tq * 2;
                mma_bf16(s[nt], a, *reinterpret_cast<const unsigned*>(kRow),
                         *reinterpret_cast<const unsigned*>(kRow + 8));
            }
        }

        // mask (causal, window, rows past the query), online softmax in the log2 domain
        float tileMax[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                const int h = c >> 1;
                const int key = t0 + nt * 8 + tq * 2 + (c & 1);
                const bool visible = valid[h] && key <= pos[h] && pos[h] - key < window;
                s[nt][c] = visible ? s[nt][c] * scaleLog2 : -INFINITY;
                tileMax[h] = fmaxf(tileMax[h], s[nt][c]);
            }
        }
        float alpha[2];
        float mUse[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            tileMax[h] = fmaxf(tileMax[h], __shfl_xor_sync(0xffffffffu, tileMax[h], 1));
            tileMax[h] = fmaxf(tileMax[h], __shfl_xor_sync(0xffffffffu, tileMax[h], 2));
            const float mNew = fmaxf(mRow[h], tileMax[h]);
            mUse[h] = mNew == -INFINITY ? 0.f : mNew;  // a row that has seen no key yet stays at zero weight
            alpha[h] = exp2f(mRow[h] - mUse[h]);
            mRow[h] = mNew;
            lRow[h] *= alpha[h];
        }
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                const int h = c >> 1;
                s[nt][c] = exp2f(s[nt][c] - mUse[h]);
                lRow[h] += s[nt][c];
            }
        }
#pragma unroll
        for (int dt = 0; dt < DT; ++dt) {
            o[dt][0] *= alpha[0];
            o[dt][1] *= alpha[0];
            o[dt][2] *= alpha[1];
            o[dt][3] *= alpha[1];
        }

        // O += P V: S's accumulator layout for key columns 16kk..16kk+15 is the A fragment layout
#pragma unroll
        for (int kk = 0; kk < kPrefillKeys / 16; ++kk) {
            const unsigned pa[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]), pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                                    pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                    pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
            const __nv_bfloat16* v0 = vt + (kk * 16 + tq * 2) * LD + g;
#pragma unroll
            for (int dt = 0; dt < DT; ++dt) {
                const __nv_bfloat16* v = v0 + dt * 8;
                mma_bf16(o[dt], pa, pack_halves(v[0], v[LD]), pack_halves(v[8 * LD], v[9 * LD]));
            }
        }
        __syncthreads();  // all warps are done with this stage before it is refilled
        if constexpr (STAGES == 1) {
            if (it + 1 < numTiles) {
                loadTile(0, t0 + kPrefillKeys);
                cp_async_commit();
            }
        }
    }

#pragma unroll
    for (int h = 0; h < 2; ++h) {
        lRow[h] += __shfl_xor_sync(0xffffffffu, lRow[h], 1);
        lRow[h] += __shfl_xor_sync(0xffffffffu, lRow[h], 2);
    }
    const float inv0 = lRow[0] > 0.f ? 1.f / lRow[0] : 0.f;
    const float inv1 = lRow[1] > 0.f ? 1.f / lRow[1] : 0.f;
    const long long qSize = (long long) numHeads * headDim;
    __nv_bfloat16* out0 = out + (long long) (qBegin + tileStart + row0) * qSize + (long long) head * headDim;
    __nv_bfloat16* out1 = out0 + 8 * qSize;
#pragma unroll
    for (int dt = 0; dt < DT; ++dt) {
        const int c = dt * 8 + tq * 2;
        if (c < headDim) {
            if (valid0) {
                *reinterpret_cast<__nv_bfloat162*>(out0 + c) = __floats2bfloat162_rn(o[dt][0] * inv0, o[dt][1] * inv0);
            }
            if (valid1) {
                *reinterpret_cast<__nv_bfloat162*>(out1 + c) = __floats2bfloat162_rn(o[dt][2] * inv1, o[dt][3] * inv1);
            }
        }
    }
}

}  // namespace

#define KD_DECODE(HD, GC)                                                                                          \
    extern "C" __global__ void __launch_bounds__(kDecodeThreads) kd_paged_attention_decode_hd##HD##_g##GC(          \
            const float* __restrict__ qkv, int qkvStride, const __nv_bfloat16* __restrict__ kCache,                 \
            const __nv_bfloat16* __restrict__ vCache, const int* __restrict__ blockTables, int blockTableStride,    \
            const int* __restrict__ seqLens, const int* __restrict__ queryStartLoc,                                 \
            const int* __restrict__ decodeSeqs, int numHeads, int numKvHeads, int headDim, int blockSize,           \
            float scaleLog2, int window, int partitionTokens, __nv_bfloat16* __restrict__ out,                      \
            float* __restrict__ partOut, float* __restrict__ partStats) {                                           \
        decode_body<HD, GC>(qkv, qkvStride, kCache, vCache, blockTables, blockTableStride, seqLens, queryStartLoc, \
                            decodeSeqs, numHeads, numKvHeads, headDim, blockSize, scaleLog2, window,               \
                            partitionTokens, out, partOut, partStats);                                             \
    }

// hd0 = any even head_dim <= 256
KD_DECODE(64, 4)
KD_DECODE(64, 8)
KD_DECODE(128, 4)
KD_DECODE(128, 8)
KD_DECODE(0, 4)
KD_DECODE(0, 8)

// Grid (numHeads, decode items): combines the partitions of sequences split into more than one, in partition
// order, each weighted by its sum times exp2(its max - the overall max).
extern "C" __global__ void __launch_bounds__(128) kd_paged_attention_decode_reduce(
        const float* __restrict__ partOut, const float* __restrict__ partStats, const int* __restrict__ seqLens,
        const int* __restrict__ queryStartLoc, const int* __restrict__ decodeSeqs, int numHeads, int headDim,
        int window, int partitionTokens, __nv_bfloat16* __restrict__ out) {
    const int head = blockIdx.x;
    const int item = blockIdx.y;
    const int seq = decodeSeqs[item];
    const int ctx = seqLens[seq];
    const Split split = decode_split(ctx - window_start(ctx - 1, window), partitionTokens);
    if (split.count == 1) {
        return;  // the decode kernel wrote this head's output itself
    }
    const long long base = ((long long) item * numHeads + head) * kMaxPartitions;
    const float* stats = partStats + base * 2;
    float maxAll = -INFINITY;
    for (int p = 0; p < split.count; ++p) maxAll = fmaxf(maxAll, stats[2 * p]);
    float weight[kMaxPartitions];
    float total = 0.f;
#pragma unroll
    for (int p = 0; p < kMaxPartitions; ++p) {
        weight[p] = p < split.count ? stats[2 * p + 1] * exp2f(stats[2 * p] - maxAll) : 0.f;
        total += weight[p];
    }
    const float inv = 1.f / total;
    __nv_bfloat16* o = out + (long long) queryStartLoc[seq] * numHeads * headDim + (long long) head * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float acc = 0.f;
#pragma unroll
        for (int p = 0; p < kMaxPartitions; ++p) {
            if (p < split.count) acc = fmaf(weight[p], partOut[(base + p) * headDim + d], acc);
        }
        o[d] = kd::float_to_bf16(acc * inv);
    }
}

#define KD_PREFILL(KS)                                                                                             \
    extern "C" __global__ void __launch_bounds__(kPrefillThreads) kd_paged_attention_prefill_ks##KS(               \
            const float* __restrict__ qkv, int qkvStride, const __nv_bfloat16* __restrict__ kCache,                 \
            const __nv_bfloat16* __restrict__ vCache, const int* __restrict__ blockTables, int blockTableStride,    \
            const int* __restrict__ seqLens, const int* __restrict__ queryStartLoc, const int* __restrict__ tiles,   \
            int numHeads, int numKvHeads, int headDim, int blockSize, float scaleLog2, int window,                  \
            __nv_bfloat16* __restrict__ out) {                                                                      \
        prefill_body<KS>(qkv, qkvStride, kCache, vCache, blockTables, blockTableStride, seqLens, queryStartLoc,   \
                         tiles, numHeads, numKvHeads, headDim, blockSize, scaleLog2, window, out);                 \
    }

// head_dim padded to 16 * KS
KD_PREFILL(1)
KD_PREFILL(2)
KD_PREFILL(4)
KD_PREFILL(8)
KD_PREFILL(16)
