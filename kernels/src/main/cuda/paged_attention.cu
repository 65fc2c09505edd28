// Paged attention over the bf16 KV cache (per layer, K and V each [numBlocks][numKvHeads][blockSize][headDim]),
// read through each sequence's block table. Queries come from the fp32 qkv rows and are rounded to bf16 first, so
// both kernels compute softmax(q_bf16 . k / sqrt(headDim)) v over keys 0..pos (and within the sliding window),
// query token i of a sequence with context L and q_len Q being at position L - Q + i.
//
// - decode (q_len 1): one block per (work item, kv head), a work item being one partition of one sequence's keys
//   (AttentionPlan splits each context by its own length alone). The block computes every q head of the GQA group,
//   so each K/V row is read once. Its W warps (2, 4 or 8: a template argument) stream their own tiles of the
//   partition into shared memory with cp.async, several tiles ahead, each warp keeping its own online softmax; the
//   warps are combined in a fixed order at the end. A sequence split into several partitions is finished by
//   whichever of its blocks arrives last (a counter per sequence and kv head), combining the partitions in
//   partition order (flash-decoding).
// - prefill (q_len > 1): one block per (64 query tokens of one sequence, q head); flash-attention over key tiles of
//   64 with online softmax in fp32 on tensor cores (mma.sync m16n8k16 bf16, P rounded to bf16 for P.V).
// No atomics take part in any sum: every output element is reduced in an order fixed by its own sequence's shape.
#include "common.cuh"

namespace {

constexpr int kMaxPartitions = 128;  // AttentionPlan.MAX_PARTITIONS

constexpr int kPrefillThreads = 128;
constexpr int kPrefillRows = 64;    // query tokens per block, 16 per warp
constexpr int kPrefillKeys = 64;    // keys per tile

__device__ __forceinline__ float round_bf16(float v) { return __bfloat162float(__float2bfloat16_rn(v)); }

// The first key a query at `pos` sees: max(0, pos - window + 1), written so that window = INT_MAX cannot overflow.
__device__ __forceinline__ int window_start(int pos, int window) { return pos >= window ? pos - window + 1 : 0; }

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

// Which 8 elements of a head vector lane r of a row's lane group holds. HD = 64 or 128: T = HD / 8 lanes per row,
// each 8 consecutive elements (one 16-byte copy). HD = 0 (any even head_dim <= 256): a whole warp per row, lane r
// holding the pairs at 2r + 64j (four 4-byte copies).
template <int HD>
struct Slice {
    static constexpr int kLanes = HD == 0 ? 32 : HD / 8;

    __device__ static int dim(int r, int i) { return HD == 0 ? 2 * r + 64 * (i >> 1) + (i & 1) : 8 * r + i; }

    // Queues the copy of lane r's slice of `row` into its 16-byte slot `dst`; zeros where !valid (then `row` must
    // still point into the cache: cp.async reads nothing from it).
    __device__ static void copy(uint4* dst, const __nv_bfloat16* row, int r, int headDim, bool valid) {
        if constexpr (HD != 0) {
            cp_async16(dst, row + 8 * r, valid ? 16 : 0);
        } else {
            unsigned* words = reinterpret_cast<unsigned*>(dst);
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const int d = 2 * r + 64 * j;
                const bool in = valid && d < headDim;
                cp_async4(words + j, row + (in ? d : 0), in ? 4 : 0);
            }
        }
    }
};

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

// Four 8x8 bf16 matrices from shared memory, lanes 8i..8i+7 giving matrix i's row addresses; .trans delivers each
// transposed (thread t gets rows 2(t%4), 2(t%4)+1 of column t/4 instead of row t/4).
__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_address(p)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_address(p)));
}

// The cache row of a key of kv head kvHead: its block from the sequence's table, then its slot. blockShift is
// log2(blockSize) for a power of two (no division), else -1. A layer's plane holds fewer than 2^31 rows: that would be
// 256 GiB at head_dim 64.
__device__ __forceinline__ int cache_row(const int* __restrict__ table, int key, int blockShift, int blockSize,
                                         int numKvHeads, int kvHead) {
    const int b = blockShift >= 0 ? key >> blockShift : key / blockSize;
    return (table[b] * numKvHeads + kvHead) * blockSize + key - b * blockSize;
}

// The cache rows of a lane's N keys key0, key0 + step, ...: -1 for a key at or past end, and for all of them when the
// tile is not the warp's (!mine).
template <int N>
__device__ __forceinline__ void cache_rows(int (&rowAt)[N], bool mine, int key0, int step, int end,
                                          const int* __restrict__ table, int blockShift, int blockSize, int numKvHeads,
                                          int kvHead) {
#pragma unroll
    for (int c = 0; c < N; ++c) {
        const int key = key0 + c * step;
        rowAt[c] = mine && key < end ? cache_row(table, key, blockShift, blockSize, numKvHeads, kvHead) : -1;
    }
}

// Starts a warp's ring: the first STAGES tiles' block-table lookups all in flight together, then the first
// STAGES - 1 tiles' copies; rowAt gets tile STAGES - 1's rows. The loop then looks each tile up one tile ahead, so
// that the table's latency hides behind a tile's arithmetic.
template <int STAGES, int N, typename Locate, typename Queue>
__device__ __forceinline__ void start_ring(const Locate& locate, const Queue& queue, int (&rowAt)[N]) {
    int first[STAGES][N];
#pragma unroll
    for (int i = 0; i < STAGES; ++i) locate(i, first[i]);
#pragma unroll
    for (int i = 0; i < STAGES - 1; ++i) queue(i, first[i]);
#pragma unroll
    for (int c = 0; c < N; ++c) rowAt[c] = first[STAGES - 1][c];
}

// Eight bf16 (element 2i in the low half of word i) to floats.
__device__ __forceinline__ void unpack8(const uint4& raw, float (&v)[8]) {
    const unsigned w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        v[2 * i] = __uint_as_float(w[i] << 16);
        v[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
}

// Decode's key loop on CUDA cores (any head_dim; see decode_body): ends with the warp's (max, sum) per q head in
// warpMax / warpSum and its unnormalized output in the block's shared memory as [W][GC][headDim] floats.
// A lane holds 8 elements of R rows of a tile of TR rows; the T lanes of a row group share a row. Each lane copies
// its own slots of a tile into the warp's ring (STAGES * 2 * R * 32 slots of 16 bytes) and later reads back exactly
// those slots, so the ring needs no barrier, only cp.async.wait_group.
template <int HD, int GC, int W, int STAGES>
__device__ __forceinline__ void decode_keys_simt(
        const float* __restrict__ qkv, int qkvStride, const __nv_bfloat16* __restrict__ kCache,
        const __nv_bfloat16* __restrict__ vCache, const int* __restrict__ table, int numKvHeads, int headDim,
        int blockSize, float scaleLog2, int token, int head0, int heads, int kvHead, int begin, int end,
        uint4* ring, float (&warpMax)[W][GC], float (&warpSum)[W][GC]) {
    using S = Slice<HD>;
    constexpr int T = S::kLanes;
    constexpr int G = 32 / T;              // row groups per warp
    constexpr int R = 16 / GC;             // rows per lane per tile: R * GC scores in registers
    constexpr int TR = R * G;              // rows per tile
    constexpr int RING = STAGES * 2 * R * 32;  // uint4 slots per warp

    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int r = lane % T;
    const int grp = lane / T;

    float q[GC][8];
#pragma unroll
    for (int g = 0; g < GC; ++g) {
        const float* qRow = qkv + (long long) token * qkvStride + (long long) (head0 + g) * headDim;
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int d = S::dim(r, i);
            q[g][i] = g < heads && d < headDim ? round_bf16(qRow[d]) * scaleLog2 : 0.f;  // scores in log2 units
        }
    }
    float m[GC];
    float l[GC];       // this lane's rows only; the row groups are summed at the end
    float acc[GC][8];
#pragma unroll
    for (int g = 0; g < GC; ++g) {
        m[g] = -INFINITY;
        l[g] = 0.f;
#pragma unroll
        for (int i = 0; i < 8; ++i) acc[g][i] = 0.f;
    }

    const int numTiles = (end - begin + TR - 1) / TR;
    const int mine = warp < numTiles ? (numTiles - 1 - warp) / W + 1 : 0;  // warp-uniform
    uint4* slots = ring + warp * RING + lane;  // this lane's slot of [stage][K, V][R] (32 lanes apart)

    // cache rows of this lane's rows of tile i, -1 past the partition
    const int blockShift = (blockSize & (blockSize - 1)) == 0 ? __ffs(blockSize) - 1 : -1;  // no division
    auto locate = [&](int i, int (&rowAt)[R]) {
        cache_rows(rowAt, i < mine, begin + (warp + i * W) * TR + grp, G, end, table, blockShift, blockSize,
                   numKvHeads, kvHead);
    };
    auto queue = [&](int i, const int (&rowAt)[R]) {  // one commit group per call, empty past this warp's tiles
        if (i < mine) {
            uint4* dst = slots + (i % STAGES) * 2 * R * 32;
#pragma unroll
            for (int c = 0; c < R; ++c) {
                const long long at = rowAt[c] < 0 ? 0 : (long long) rowAt[c] * headDim;
                S::copy(dst + c * 32, kCache + at, r, headDim, rowAt[c] >= 0);
                S::copy(dst + (R + c) * 32, vCache + at, r, headDim, rowAt[c] >= 0);
            }
        }
        cp_async_commit();
    };

    int rowAt[R];
    start_ring<STAGES>(locate, queue, rowAt);
    for (int i = 0; i < mine; ++i) {
        queue(i + STAGES - 1, rowAt);  // into the stage tile i - 1 left
        locate(i + STAGES, rowAt);
        cp_async_wait<STAGES - 1>();
        const uint4* kt = slots + (i % STAGES) * 2 * R * 32;
        const uint4* vt = kt + R * 32;
        const int key0 = begin + (warp + i * W) * TR + grp;

        // scores (log2 domain) of this lane's rows; the T lanes of a row group add their slices
        float s[R][GC];
#pragma unroll
        for (int c = 0; c < R; ++c) {
            float k[8];
            unpack8(kt[c * 32], k);
#pragma unroll
            for (int g = 0; g < GC; ++g) {
                float dot = 0.f;
#pragma unroll
                for (int e = 0; e < 8; ++e) dot = fmaf(q[g][e], k[e], dot);
#pragma unroll
                for (int off = T / 2; off > 0; off >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, off);
                s[c][g] = key0 + c * G < end ? dot : -INFINITY;
            }
        }
        // online softmax over the warp's tiles: the tile's first row is always a key, so the max is finite
#pragma unroll
        for (int g = 0; g < GC; ++g) {
            float tileMax = s[0][g];
#pragma unroll
            for (int c = 1; c < R; ++c) tileMax = fmaxf(tileMax, s[c][g]);
#pragma unroll
            for (int off = T; off < 32; off <<= 1) tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, off));
            if (tileMax > m[g]) {  // warp-uniform; rare after the first tiles (else alpha would be exactly 1)
                const float alpha = exp2f(m[g] - tileMax);
                m[g] = tileMax;
                l[g] *= alpha;
#pragma unroll
                for (int e = 0; e < 8; ++e) acc[g][e] *= alpha;
            }
#pragma unroll
            for (int c = 0; c < R; ++c) {
                s[c][g] = exp2f(s[c][g] - m[g]);
                l[g] += s[c][g];
            }
        }
#pragma unroll
        for (int c = 0; c < R; ++c) {
            float v[8];
            unpack8(vt[c * 32], v);
#pragma unroll
            for (int g = 0; g < GC; ++g) {
#pragma unroll
                for (int e = 0; e < 8; ++e) acc[g][e] = fmaf(s[c][g], v[e], acc[g][e]);
            }
        }
    }
    cp_async_wait<0>();

    // the warp's row groups, in a fixed order
#pragma unroll
    for (int off = T; off < 32; off <<= 1) {
#pragma unroll
        for (int g = 0; g < GC; ++g) {
            l[g] += __shfl_xor_sync(0xffffffffu, l[g], off);
#pragma unroll
            for (int e = 0; e < 8; ++e) acc[g][e] += __shfl_xor_sync(0xffffffffu, acc[g][e], off);
        }
    }
    __syncthreads();  // every warp is done with its ring: the space takes the per-warp outputs
    float* warpOut = reinterpret_cast<float*>(ring);  // [W][GC][headDim]
    if (grp == 0) {
#pragma unroll
        for (int g = 0; g < GC; ++g) {
#pragma unroll
            for (int e = 0; e < 8; ++e) {
                const int d = S::dim(r, e);
                if (d < headDim) warpOut[(warp * GC + g) * headDim + d] = acc[g][e];
            }
        }
    }
    if (lane == 0) {
#pragma unroll
        for (int g = 0; g < GC; ++g) {
            warpMax[warp][g] = m[g];  // -inf for a warp without tiles: its weight below is 0
            warpSum[warp][g] = l[g];
        }
    }
}

// Decode's key loop on tensor cores (head_dim 64 or 128, GQA chunks of up to 8 q heads; see decode_body), same
// contract as decode_keys_simt with GC = 8. Per tile of 16 keys a warp computes S = Q K^T with mma.sync m16n8k16
// (A = the chunk's q heads as rows 0..7, rows 8..15 zero; B = K rows from shared memory), an online softmax per q
// head in fp32 (log2 domain), then O^T += V^T P^T with P rounded to bf16 as the prefill kernel does: S's
// accumulator layout is P^T's B fragment as it stands, and O^T (head_dim rows x 8 heads) wastes no accumulator.
// The ring holds each stage's K and V tiles as [16 keys][HD / 8 chunks of 16 bytes], a row's chunk j stored at
// j ^ (key % 8) so that the eight row addresses of one ldmatrix fall in distinct bank groups. Every lane copies
// two chunks of RL rows and reads through ldmatrix what other lanes copied, hence a __syncwarp after each wait.
template <int HD, int W, int STAGES>
__device__ __forceinline__ void decode_keys_mma(
        const float* __restrict__ qkv, int qkvStride, const __nv_bfloat16* __restrict__ kCache,
        const __nv_bfloat16* __restrict__ vCache, const int* __restrict__ table, int numKvHeads, int headDim,
        int blockSize, float scaleLog2, int token, int head0, int heads, int kvHead, int begin, int end,
        uint4* ring, float (&warpMax)[W][8], float (&warpSum)[W][8]) {
    static_assert(HD == 64 || HD == 128, "tensor-core decode covers head_dim 64 and 128");
    constexpr int GC = 8;
    constexpr int KEYS = 16;                  // keys per tile
    constexpr int C = HD / 8;                 // 16-byte chunks per row
    constexpr int TILE = KEYS * C;            // uint4 slots of one K (or V) tile
    constexpr int LANES_PER_ROW = C / 2;      // each copying two chunks
    constexpr int ROWS_PER_PASS = 32 / LANES_PER_ROW;
    constexpr int RL = KEYS / ROWS_PER_PASS;  // rows a lane copies per tile
    constexpr int MT = HD / 16;               // m16 tiles of O^T

    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int g = lane >> 2;   // fragment row: q head g of the chunk
    const int tq = lane & 3;   // fragment column pair

    // Q as the A operand, rounded to bf16 (the scale is applied to the scores): {row g cols 2tq.., row g cols 8+2tq..}
    unsigned qa[HD / 16][2];
    {
        const bool ok = g < heads;
        const float* qRow = qkv + (long long) token * qkvStride + (long long) (head0 + (ok ? g : 0)) * headDim;
#pragma unroll
        for (int kk = 0; kk < HD / 16; ++kk) {
            const float2 lo = *reinterpret_cast<const float2*>(qRow + 16 * kk + 2 * tq);
            const float2 hi = *reinterpret_cast<const float2*>(qRow + 16 * kk + 8 + 2 * tq);
            qa[kk][0] = ok ? pack_bf16(lo.x, lo.y) : 0u;
            qa[kk][1] = ok ? pack_bf16(hi.x, hi.y) : 0u;
        }
    }
    float mRun = -INFINITY;  // q head g's running max (the quad agrees), log2 units
    float lRun = 0.f;        // this lane's share of its sum; the quad's shares are added at the end
    float o[MT][4];  // O^T: {dim 16mt + g, dim 16mt + g + 8} x {head 2tq, head 2tq + 1}
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) o[mt][0] = o[mt][1] = o[mt][2] = o[mt][3] = 0.f;

    const int numTiles = (end - begin + KEYS - 1) / KEYS;
    const int mine = warp < numTiles ? (numTiles - 1 - warp) / W + 1 : 0;  // warp-uniform
    uint4* base = ring + warp * STAGES * 2 * TILE;
    const int copyRow = lane / LANES_PER_ROW;
    const int copyChunk = 2 * (lane % LANES_PER_ROW);

    const int blockShift = (blockSize & (blockSize - 1)) == 0 ? __ffs(blockSize) - 1 : -1;  // no division
    auto locate = [&](int i, int (&rowAt)[RL]) {
        cache_rows(rowAt, i < mine, begin + (warp + i * W) * KEYS + copyRow, ROWS_PER_PASS, end, table, blockShift,
                   blockSize, numKvHeads, kvHead);
    };
    auto queue = [&](int i, const int (&rowAt)[RL]) {  // one commit group per call, empty past this warp's tiles
        if (i < mine) {
            uint4* kDst = base + (i % STAGES) * 2 * TILE;
#pragma unroll
            for (int c = 0; c < RL; ++c) {
                const int row = copyRow + c * ROWS_PER_PASS;
                const long long at = rowAt[c] < 0 ? 0 : (long long) rowAt[c] * headDim;
                const int bytes = rowAt[c] >= 0 ? 16 : 0;
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                    const int chunk = copyChunk + h;
                    const int slot = row * C + (chunk ^ (row & 7));
                    cp_async16(kDst + slot, kCache + at + 8 * chunk, bytes);
                    cp_async16(kDst + TILE + slot, vCache + at + 8 * chunk, bytes);
                }
            }
        }
        cp_async_commit();
    };

    int rowAt[RL];
    start_ring<STAGES>(locate, queue, rowAt);
    // ldmatrix row addresses, for K (B of S) and V (A of O^T, transposed) alike: matrices {keys 0-7, keys 8-15} x
    // {chunk 2i, chunk 2i + 1}
    const int rowKey = (lane & 7) + ((lane >> 4) << 3);
    const int rowChunk = (lane >> 3) & 1;
    for (int i = 0; i < mine; ++i) {
        __syncwarp();  // every lane's ldmatrix of tile i - 1 is done before its stage is refilled
        queue(i + STAGES - 1, rowAt);
        locate(i + STAGES, rowAt);
        cp_async_wait<STAGES - 1>();
        __syncwarp();  // the other lanes' copies of tile i are visible
        const uint4* kt = base + (i % STAGES) * 2 * TILE;
        const uint4* vt = kt + TILE;

        float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
        for (int kk = 0; kk < HD / 16; ++kk) {
            unsigned b[4];
            ldmatrix_x4(b, kt + rowKey * C + ((2 * kk + rowChunk) ^ (rowKey & 7)));
            const unsigned a[4] = {qa[kk][0], 0u, qa[kk][1], 0u};
            mma_bf16(s[0], a, b[0], b[1]);
            mma_bf16(s[1], a, b[2], b[3]);
        }

        // online softmax of q head g over the tile's keys 8nt + 2tq + e
        const int key0 = begin + (warp + i * W) * KEYS + 2 * tq;
        float tileMax = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                s[nt][e] = key0 + 8 * nt + e < end ? s[nt][e] * scaleLog2 : -INFINITY;
                tileMax = fmaxf(tileMax, s[nt][e]);
            }
        }
        tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 1));
        tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 2));
        const float mNew = fmaxf(mRun, tileMax);  // finite: a tile's first key is always in the partition
        const float alpha = exp2f(mRun - mNew);
        mRun = mNew;
        lRun *= alpha;
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                s[nt][e] = exp2f(s[nt][e] - mNew);
                lRun += s[nt][e];
            }
        }
        // this lane's O^T columns are heads 2tq and 2tq + 1, whose softmax lives in lanes 8tq and 8tq + 4
        const float alpha0 = __shfl_sync(0xffffffffu, alpha, 8 * tq);
        const float alpha1 = __shfl_sync(0xffffffffu, alpha, 8 * tq + 4);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            o[mt][0] *= alpha0;
            o[mt][1] *= alpha1;
            o[mt][2] *= alpha0;
            o[mt][3] *= alpha1;
        }

        // O^T += V^T P^T: B = P^T (keys 2tq.. of n-tile 0, then of n-tile 1, q head g) is S's layout
        const unsigned pb0 = pack_bf16(s[0][0], s[0][1]);
        const unsigned pb1 = pack_bf16(s[1][0], s[1][1]);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            unsigned a[4];
            ldmatrix_x4_trans(a, vt + rowKey * C + ((2 * mt + rowChunk) ^ (rowKey & 7)));
            mma_bf16(o[mt], a, pb0, pb1);
        }
    }
    cp_async_wait<0>();

    lRun += __shfl_xor_sync(0xffffffffu, lRun, 1);
    lRun += __shfl_xor_sync(0xffffffffu, lRun, 2);
    __syncthreads();  // every warp is done with its ring: the space takes the per-warp outputs
    float* warpOut = reinterpret_cast<float*>(ring);  // [W][GC][headDim]
#pragma unroll
    for (int e = 0; e < 2; ++e) {
        const int head = 2 * tq + e;
        if (head < heads) {
            float* row = warpOut + (warp * GC + head) * HD + g;
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                row[16 * mt] = o[mt][e];
                row[16 * mt + 8] = o[mt][2 + e];
            }
        }
    }
    if (g < heads && tq == 0) {
        warpMax[warp][g] = mRun;  // -inf for a warp without tiles: its weight is 0
        warpSum[warp][g] = lRun;
    }
}

// Decode. A 1-D grid of work slots x head blocks, a head block being (kv head, chunk of GC q heads of its group):
// GC q heads of the group sit in registers at once; a group larger than GC (MQA) is split over head blocks, its K/V
// then read once per chunk (mostly from L2). headsFastest numbers the head blocks of one work item consecutively,
// so the blocks that run together read every kv head of the same cache blocks (adjacent in memory) and share
// their block-table reads; otherwise one head block's work items are consecutive.
//
// Warp w takes the partition's tiles w, w + W, ..., streaming them through its own ring of STAGES tiles with
// cp.async and keeping its own online softmax (decode_keys_simt on CUDA cores, decode_keys_mma on tensor cores);
// the warps are then combined in a fixed order. Dynamic shared memory: max(the warps' rings, per-warp outputs
// W * GC * headDim floats).
//
// Metadata (AttentionPlan): work = {numWork, -, -, -, then per item {seq, partition, first key, end key, query
// token, partitions, first partial slot, -}}: all a block needs in one load. Partial outputs
// [slot][numHeads][headDim rounded up to 4] and their (max, sum) [slot][numHeads][2]; arrivals
// [seq][head blocks] are zero between launches.
template <int HD, int GC, int W, int STAGES, bool MMA>
__device__ __forceinline__ void decode_body(
        const float* __restrict__ qkv, int qkvStride, const __nv_bfloat16* __restrict__ kCache,
        const __nv_bfloat16* __restrict__ vCache, const int* __restrict__ blockTables, int blockTableStride,
        const int* __restrict__ work, int numHeads, int numKvHeads, int headDim, int blockSize, float scaleLog2,
        int headsFastest, __nv_bfloat16* __restrict__ out, float* __restrict__ partOut,
        float* __restrict__ partStats, int* __restrict__ arrivals) {
    constexpr int THREADS = 32 * W;

    extern __shared__ uint4 ring[];
    __shared__ float warpMax[W][GC];
    __shared__ float warpSum[W][GC];
    __shared__ float warpWeight[W][GC];    // exp2(warp max - partition max) / partition sum
    __shared__ float partWeight[GC][kMaxPartitions];
    __shared__ float headMax[GC];
    __shared__ float headSum[GC];
    __shared__ int lastToArrive;

    const int groupSize = numHeads / numKvHeads;
    const int headChunks = (groupSize + GC - 1) / GC;
    const int headBlocks = numKvHeads * headChunks;
    const int workSlots = gridDim.x / headBlocks;
    const int itemAt = headsFastest ? blockIdx.x / headBlocks : blockIdx.x % workSlots;
    const int headBlock = headsFastest ? blockIdx.x % headBlocks : blockIdx.x / workSlots;
    // both loads at once (every slot exists, those past numWork unused): one round trip before the table lookups
    const int numWork = work[0];
    const int4 item = reinterpret_cast<const int4*>(work + 4)[2 * itemAt];
    const int4 more = reinterpret_cast<const int4*>(work + 4)[2 * itemAt + 1];
    if (itemAt >= numWork) {
        return;  // the grid is sized for the step's shape, the work list for its contexts
    }
    const int seq = item.x;
    const int part = item.y;
    const int begin = item.z;
    const int end = item.w;
    const int token = more.x;
    const int count = more.y;
    const int slot0 = more.z;
    const int kvHead = headBlock / headChunks;
    const int head0 = kvHead * groupSize + (headBlock % headChunks) * GC;
    const int heads = min(GC, (kvHead + 1) * groupSize - head0);
    const int* table = blockTables + (long long) seq * blockTableStride;

    const int tid = threadIdx.x;
    if constexpr (MMA) {
        decode_keys_mma<HD, W, STAGES>(qkv, qkvStride, kCache, vCache, table, numKvHeads, headDim, blockSize,
                                       scaleLog2, token, head0, heads, kvHead, begin, end, ring, warpMax, warpSum);
    } else {
        decode_keys_simt<HD, GC, W, STAGES>(qkv, qkvStride, kCache, vCache, table, numKvHeads, headDim, blockSize,
                                            scaleLog2, token, head0, heads, kvHead, begin, end, ring, warpMax,
                                            warpSum);
    }
    __syncthreads();
    if (tid < heads) {
        float mAll = warpMax[0][tid];
#pragma unroll
        for (int w = 1; w < W; ++w) mAll = fmaxf(mAll, warpMax[w][tid]);
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < W; ++w) sum += warpSum[w][tid] * exp2f(warpMax[w][tid] - mAll);
#pragma unroll
        for (int w = 0; w < W; ++w) warpWeight[w][tid] = exp2f(warpMax[w][tid] - mAll) / sum;
        headMax[tid] = mAll;
        headSum[tid] = sum;
    }
    __syncthreads();
    const float* warpOut = reinterpret_cast<const float*>(ring);  // [W][GC][headDim], left by the key loop
    const int partStride = (headDim + 3) & ~3;  // float4 rows for the combination below
    for (int idx = tid; idx < heads * headDim; idx += THREADS) {
        const int g = idx / headDim;
        const int d = idx - g * headDim;
        float o = 0.f;
#pragma unroll
        for (int w = 0; w < W; ++w) o = fmaf(warpWeight[w][g], warpOut[(w * GC + g) * headDim + d], o);
        if (count == 1) {
            out[(long long) token * numHeads * headDim + (long long) (head0 + g) * headDim + d] = kd::float_to_bf16(o);
        } else {
            partOut[((long long) (slot0 + part) * numHeads + head0 + g) * partStride + d] = o;
        }
    }
    if (count == 1) {
        return;
    }
    if (tid < heads) {
        float* stats = partStats + ((long long) (slot0 + part) * numHeads + head0 + tid) * 2;
        stats[0] = headMax[tid];
        stats[1] = headSum[tid];
    }

    // the last of the sequence's partitions to arrive combines them all, in partition order
    __threadfence();
    __syncthreads();
    if (tid == 0) {
        int* arrived = arrivals + (long long) seq * headBlocks + headBlock;
        const bool last = atomicAdd(arrived, 1) == count - 1;
        if (last) atomicExch(arrived, 0);  // ready for the next launch
        lastToArrive = last;
    }
    __syncthreads();
    if (!lastToArrive) {
        return;
    }
    __threadfence();
    // Partition weights, one warp a head: lane l loads partitions l, l + 32, ... at once, so the combination waits
    // for one round trip to L2 rather than one per partition. The max is exact in any order; the sum adds each
    // lane's partitions in order, then the lanes by warp_sum, whose order depends on nothing but the count.
    constexpr int kPerLane = kMaxPartitions / 32;
    const int lane = tid & 31;
    for (int g = tid >> 5; g < heads; g += W) {
        const float* stats = partStats + ((long long) slot0 * numHeads + head0 + g) * 2;
        float partMax[kPerLane];
        float partSum[kPerLane];
        float mAll = -INFINITY;
#pragma unroll
        for (int i = 0; i < kPerLane; ++i) {
            const int p = lane + 32 * i;
            const float2* at = reinterpret_cast<const float2*>(stats + (long long) p * numHeads * 2);
            const float2 st = p < count ? __ldcg(at) : make_float2(-INFINITY, 0.f);
            partMax[i] = st.x;
            partSum[i] = st.y;
            mAll = fmaxf(mAll, st.x);
        }
        mAll = kd::warp_max(mAll);
        float total = 0.f;
#pragma unroll
        for (int i = 0; i < kPerLane; ++i) {
            partSum[i] = lane + 32 * i < count ? partSum[i] * exp2f(partMax[i] - mAll) : 0.f;
            total += partSum[i];
        }
        const float inv = 1.f / kd::warp_sum(total);
#pragma unroll
        for (int i = 0; i < kPerLane; ++i) {
            if (lane + 32 * i < count) partWeight[g][lane + 32 * i] = partSum[i] * inv;
        }
    }
    __syncthreads();
    const int quads = partStride / 4;
    const long long quadsPerSlot = (long long) numHeads * quads;
    for (int idx = tid; idx < heads * quads; idx += THREADS) {
        const int g = idx / quads;
        const int d = (idx - g * quads) * 4;
        const float4* src = reinterpret_cast<const float4*>(partOut + ((long long) slot0 * numHeads + head0 + g)
                                                            * partStride + d);
        float4 o = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll 16
        for (int p = 0; p < count; ++p) {
            const float4 v = __ldcg(src + p * quadsPerSlot);
            const float w = partWeight[g][p];
            o.x = fmaf(w, v.x, o.x);
            o.y = fmaf(w, v.y, o.y);
            o.z = fmaf(w, v.z, o.z);
            o.w = fmaf(w, v.w, o.w);
        }
        __nv_bfloat16* dst = out + (long long) token * numHeads * headDim + (long long) (head0 + g) * headDim + d;
        const float res[4] = {o.x, o.y, o.z, o.w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            if (d + j < headDim) dst[j] = kd::float_to_bf16(res[j]);
        }
    }
}

// ---- prefill on tensor cores ----

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


// 64 * 4 / W blocks of W warps per multiprocessor with GC = 4 (32 / W with GC = 8): at most 128 registers a thread
#define KD_DECODE(HD, GC, W, STAGES) \
    KD_DECODE_ENTRY(kd_paged_attention_decode_hd##HD##_g##GC##_w##W##_s##STAGES, HD, GC, W, STAGES, false, 64 / GC / W)
// tensor cores: 16 / W blocks of W warps per multiprocessor, at most 128 registers a thread
#define KD_DECODE_MMA(HD, W, STAGES) \
    KD_DECODE_ENTRY(kd_paged_attention_decode_mma_hd##HD##_w##W##_s##STAGES, HD, 8, W, STAGES, true, 16 / W)
#define KD_DECODE_ENTRY(NAME, HD, GC, W, STAGES, MMA, MIN_BLOCKS)                                                  \
    extern "C" __global__ void __launch_bounds__(32 * W, MIN_BLOCKS) NAME(                                         \
            const float* __restrict__ qkv, int qkvStride, const __nv_bfloat16* __restrict__ kCache,                 \
            const __nv_bfloat16* __restrict__ vCache, const int* __restrict__ blockTables, int blockTableStride,    \
            const int* __restrict__ work, int numHeads, int numKvHeads, int headDim, int blockSize,                 \
            float scaleLog2, int headsFastest, __nv_bfloat16* __restrict__ out, float* __restrict__ partOut,        \
            float* __restrict__ partStats, int* __restrict__ arrivals) {                                           \
        decode_body<HD, GC, W, STAGES, MMA>(qkv, qkvStride, kCache, vCache, blockTables, blockTableStride, work,  \
                                            numHeads, numKvHeads, headDim, blockSize, scaleLog2, headsFastest,     \
                                            out, partOut, partStats, arrivals);                                    \
    }

// hd0 = any even head_dim <= 256; w = warps a block, s = cp.async stages per warp. Head dims 64 and 128 with GQA
// groups of at most 4 (the Llama shapes) have every (w, s) for PagedAttention's tuning; the rest 4 warps, 3 stages.
#define KD_DECODE_STAGES(HD, W) KD_DECODE(HD, 4, W, 2) KD_DECODE(HD, 4, W, 3) KD_DECODE(HD, 4, W, 4)
KD_DECODE_STAGES(64, 2)
KD_DECODE_STAGES(64, 4)
KD_DECODE_STAGES(64, 8)
KD_DECODE_STAGES(128, 2)
KD_DECODE_STAGES(128, 4)
KD_DECODE_STAGES(128, 8)
KD_DECODE(64, 8, 4, 3)
KD_DECODE(128, 8, 4, 3)
KD_DECODE(0, 4, 4, 3)
KD_DECODE(0, 8, 4, 3)
// tensor cores, head dims 64 and 128 with any GQA group (chunks of 8 q heads): 2 or 4 warps, 2 or 3 stages (a
// 16-key tile of head_dim 128 is 8 KiB of K and V, so deeper rings would cost blocks per multiprocessor)
#define KD_DECODE_MMA_STAGES(HD, W) KD_DECODE_MMA(HD, W, 2) KD_DECODE_MMA(HD, W, 3)
KD_DECODE_MMA_STAGES(64, 2)
KD_DECODE_MMA_STAGES(64, 4)
KD_DECODE_MMA_STAGES(128, 2)
KD_DECODE_MMA_STAGES(128, 4)

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
