// C[m][n] (fp32, row stride ldc) = A[m][k] (bf16, row stride lda) x W[n][k]^T (bf16, row stride k).
//
// Both operands are K-contiguous, which is what mma.sync m16n8k16 .row.col wants: A fragments and W fragments
// both come from plain (non-transposed) ldmatrix over [row][k] tiles in shared memory. Tiles stream in through a
// cp.async pipeline of STAGES buffers (16-byte copies, rows past m or n and K past k zero-filled), and each
// shared-memory row's 16-byte chunks are XOR-swizzled so that the eight row addresses of one ldmatrix land in
// eight different bank groups.
//
// Reduction order. Each output element is summed over K in chunks of 64: a chunk is four chained mma steps
// starting from zero, and the chunk's sum is then added to the element's fp32 total with an ordinary FADD,
// chunks in ascending K. This order depends only on k, never on the tile shape, so every tile variant below
// (and so every m, and every batch a row shares) gives a row the same bits. It is also far more accurate than
// letting the tensor core accumulate all of K: its fp32 accumulation normalizes with truncation, an error
// biased toward zero that grows linearly with the number of chained steps (a model of it gave ~1e-5 relative
// at k = 8192 unchunked). Chunks of s steps keep that part near s * 2^-24 relative (4 steps: ~3e-7), and the
// round-to-nearest FADDs between chunks add an unbiased error that grows only with sqrt(k / 64). Chunks of 64
// rather than 32 halve the FADDs per mma, which compete with the mma stream for issue slots and registers.
//
// Segments. Above that, K is cut into segments of segment_k(k): the chunk sums of a segment are added from zero as
// above, and the segment totals are then added in ascending order (C = s0, C = C + s1, ...). A k of at most
// ONE_SEGMENT_K is one segment, the order above bit for bit; a longer k has segments of LONG_K_SEGMENT. The length
// depends on k alone, so it too is the same for every m. It lets a launch split K over CTAs (split-K) without a
// different order: a CTA that owns all of K adds each segment total into C as it finishes it; split CTAs each store
// their segments' totals in a workspace slab per segment, and kd_gemm_reduce adds the slabs in the same order.
// Decode and mixed batches (m ~ 64..512) leave most multiprocessors idle on a long-K projection without the split:
// unsplit, the down projections at m = 256 fill a quarter (1B) to a half (8B) of an H100 with tiles of 128 x 128.
//
// SiLU-and-multiply epilogue. The *_silu_mul entry points are the gate_up projection with the MLP's activation
// applied to the finished totals: W is gate_up's weight with its rows interleaved in groups of 8 (gate 0-7, up 0-7,
// gate 8-15, ...; GateUpOrder.java), and out[row][j] = bf16(silu_mul(gate_j, up_j)) (activation.cuh) is written
// instead of C. The totals are the unfused launch's, bit for bit, and so is the activation, which is
// kd_silu_and_mul's function. A 16 x 8 accumulator piece covers 8 columns aligned to 8, and every warp's N extent is
// whole 16-column groups (Tile's static_assert; wgmma's 128), so a thread's pieces 2i and 2i + 1 hold a gate column
// and its up column in the same element: the epilogue needs nothing from other threads. A segment total that is not
// final goes where the unfused launch puts it: a split's slab (kd_gemm_reduce_silu_mul then finishes), or, in a CTA
// owning all of a multi-segment K, the running totals in scratch, an fp32 [m][n] C that is never the output.
#include <type_traits>

#include "activation.cuh"
#include "elementwise.cuh"

namespace {

constexpr int CHUNK_K = 64;
constexpr int CHUNK_STEPS = CHUNK_K / 16;  // chained mma steps per chunk
constexpr int ONE_SEGMENT_K = 4096;       // Gemm.java's ONE_SEGMENT_K
constexpr int LONG_K_SEGMENT = 2048;      // Gemm.java's LONG_K_SEGMENT

// The segment length of a k (Gemm.segmentK): a multiple of every tile's BK, so a stage never straddles two.
__device__ __forceinline__ int segment_k(int k) { return k <= ONE_SEGMENT_K ? ONE_SEGMENT_K : LONG_K_SEGMENT; }

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte global->shared copy; src_bytes = 0 writes zeros and reads nothing.
__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

// d = a x b + c for one 16x8 tile over 16 K, fp32 accumulation.
__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1,
                                         const float (&c)[4]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%10,%11,%12,%13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "f"(c[0]), "f"(c[1]), "f"(c[2]),
          "f"(c[3]));
}

// Shared-memory tile rows are BK bf16 long; the 16-byte chunk c of row r sits at chunk c ^ (r & 7), so any 8
// consecutive rows (aligned to 8) reading one logical chunk hit 8 distinct 16-byte bank groups. For BK = 64
// (128-byte rows) on a 1024-byte-aligned tile this is exactly wgmma's 128-byte swizzle.
template <int BK>
__device__ __forceinline__ int swizzled(int r, int c) {
    return r * BK + ((c ^ (r & 7)) * 8);
}

// Grouped raster: 8 M-tiles run over the same W columns before moving on, so a W tile is still in L2 when its
// next M-tile needs it. Gives the CTA's first output row and column.
template <int BM, int BN>
__device__ __forceinline__ void tile_origin(int m, int n, int& m0, int& n0) {
    constexpr int GROUP_M = 8;
    const int tiles_m = (m + BM - 1) / BM;
    const int tiles_n = (n + BN - 1) / BN;
    const int pid = blockIdx.x;
    const int group_size = GROUP_M * tiles_n;
    const int first_m = (pid / group_size) * GROUP_M;
    const int rows_in_group = min(tiles_m - first_m, GROUP_M);
    m0 = (first_m + (pid % group_size) % rows_in_group) * BM;
    n0 = ((pid % group_size) / rows_in_group) * BN;
}

// One stage = the A tile [BM][BK] then the W tile [BN][BK], swizzled. Thread tid copies logical chunk
// tid % ROW_CHUNKS of rows tid / ROW_CHUNKS + i * COPY_ROWS. Chunks past m, n or k are zero-filled: src-size 0
// reads nothing, so their (out-of-range) source addresses are never dereferenced.
template <int BM, int BN, int BK, int THREADS>
struct StageLoader {
    static constexpr int ROW_CHUNKS = BK / 8;  // 16-byte chunks per shared-memory row
    static constexpr int COPY_ROWS = THREADS / ROW_CHUNKS;
    static constexpr int STAGE_BYTES = (BM + BN) * BK * 2;
    static_assert(BK == 64 || BK == 128, "a stage holds whole reduction chunks, rows of at most 16 chunks");
    static_assert(THREADS % ROW_CHUNKS == 0 && COPY_ROWS >= 1, "every thread copies one chunk column of its rows");

    const __nv_bfloat16* a_src;
    const __nv_bfloat16* w_src;
    size_t a_step;
    size_t w_step;
    int a_rows;  // rows copy_row + i * COPY_ROWS < a_rows exist
    int w_rows;
    int k_left;  // k minus this thread's first column
    int copy_row;
    int copy_chunk;
    uint32_t a_dst;  // shared address of this thread's first A chunk in stage 0
    uint32_t w_dst;

    __device__ __forceinline__ StageLoader(const __nv_bfloat16* a, int lda, const __nv_bfloat16* w, int m, int n,
                                           int k, int m0, int n0, uint32_t smem) {
        copy_row = threadIdx.x / ROW_CHUNKS;
        copy_chunk = threadIdx.x % ROW_CHUNKS;
        a_src = a + static_cast<size_t>(m0 + copy_row) * lda + copy_chunk * 8;
        w_src = w + static_cast<size_t>(n0 + copy_row) * k + copy_chunk * 8;
        a_step = static_cast<size_t>(COPY_ROWS) * lda;
        w_step = static_cast<size_t>(COPY_ROWS) * k;
        a_rows = m - m0 - copy_row;
        w_rows = n - n0 - copy_row;
        k_left = k - copy_chunk * 8;
        a_dst = smem + swizzled<BK>(copy_row, copy_chunk) * 2;
        w_dst = a_dst + BM * BK * 2;
    }

    // Shared-memory offset of copy i from copy 0: a constant where the copy rows are 8-aligned steps apart and
    // so share one swizzle.
    __device__ __forceinline__ int row_offset(int i) const {
        if constexpr (COPY_ROWS % 8 == 0) {
            return i * COPY_ROWS * BK * 2;
        } else {
            return (swizzled<BK>(copy_row + i * COPY_ROWS, copy_chunk) - swizzled<BK>(copy_row, copy_chunk)) * 2;
        }
    }

    __device__ __forceinline__ void load(int stage, int ktile) const {
        const uint32_t base = stage * STAGE_BYTES;
        const int k0 = ktile * BK;
        const bool k_ok = k0 < k_left;
        copy<BM>(a_dst + base, a_src + k0, a_step, k_ok, a_rows);
        copy<BN>(w_dst + base, w_src + k0, w_step, k_ok, w_rows);
    }

    // This thread's chunks of one [ROWS][BK] tile; where COPY_ROWS does not divide ROWS, the last pass copies
    // the rows that are left.
    template <int ROWS>
    __device__ __forceinline__ void copy(uint32_t dst, const __nv_bfloat16* src, size_t step, bool k_ok,
                                         int rows) const {
#pragma unroll
        for (int i = 0; i < (ROWS + COPY_ROWS - 1) / COPY_ROWS; i++) {
            if (ROWS % COPY_ROWS != 0 && i == ROWS / COPY_ROWS && copy_row >= ROWS % COPY_ROWS) break;
            const bool ok = k_ok && i * COPY_ROWS < rows;
            cp_async16(dst + row_offset(i), src + i * step, ok ? 16 : 0);
        }
    }
};

// Stores one accumulator pair (row, col), (row, col + 1): both mma.sync's and wgmma's fp32 fragments hold, per
// 16 x 8 piece, e = 0,1 at row lane/4, columns 2*(lane%4) + {0,1} and e = 2,3 eight rows further.
__device__ __forceinline__ void store_pair(float* __restrict__ c, int ldc, int m, int n, bool pairs, int row,
                                           int col, float v0, float v1) {
    if (row >= m) return;
    float* out = c + static_cast<size_t>(row) * ldc;
    if (pairs && col + 1 < n) {
        *reinterpret_cast<float2*>(out + col) = make_float2(v0, v1);
    } else {
        if (col < n) out[col] = v0;
        if (col + 1 < n) out[col + 1] = v1;
    }
}

__device__ __forceinline__ bool pairs_aligned(const float* c, int ldc) {
    return ((reinterpret_cast<uintptr_t>(c) | (static_cast<uintptr_t>(ldc) * 4)) & 7) == 0;
}

// Puts a pair of one segment's totals where they go (see Segments above): with a workspace, segment seg's slab
// ([m][n], row stride n); without, the CTA owns all of K and C. There, after segment 0, the caller has already added
// C's running totals (load_pair) to the pair. Takes the kernel's parameters as they are, so that nothing of it stays
// in registers through the main loop.
__device__ __forceinline__ void put_segment(float* c, int ldc, float* ws, int m, int n, int seg, int row, int col,
                                            float v0, float v1) {
    if (ws != nullptr) {
        float* slab = ws + static_cast<size_t>(seg) * m * n;
        store_pair(slab, n, m, n, pairs_aligned(slab, n), row, col, v0, v1);
    } else {
        store_pair(c, ldc, m, n, pairs_aligned(c, ldc), row, col, v0, v1);
    }
}

// Whether segment seg's totals are added to what C holds (a CTA owning all of K, past its first segment).
__device__ __forceinline__ bool adds_to_c(const float* ws, int seg) { return ws == nullptr && seg > 0; }

// Whether segment seg's totals, with C's running totals added, are the final ones (a CTA owning all of K, at its
// last segment): where the fused epilogue applies.
__device__ __forceinline__ bool final_totals(const float* ws, int k, int seg) {
    return ws == nullptr && (seg + 1) * segment_k(k) >= k;
}

// The activation of intermediate column j (of inter): silu_mul of its gate and up totals, each plus its bias first
// where there is one ([gate | up], the checkpoint's order), as kd_add_bias adds it to an unfused launch's C.
__device__ __forceinline__ float activate(float g, float u, const float* bias, int j, int inter) {
    if (bias != nullptr) {
        g += bias[j];
        u += bias[inter + j];
    }
    return kd::silu_mul(g, u);
}

// The intermediate column of C's gate column col (its 16-column group's first 8 are gate, the next 8 up).
__device__ __forceinline__ int inter_column(int col) { return (col >> 4) * 8 + (col & 7); }

// The fused epilogue's counterpart of store_pair: the gate pair (row, col), (row, col + 1) and the up pair 8 columns
// on become out[row][j], out[row][j + 1], j = inter_column(col), even as col is. n is a multiple of 16, so the
// pair's group lies wholly inside C or wholly past it.
__device__ __forceinline__ void store_silu_mul(__nv_bfloat16* __restrict__ out, int ldo, const float* bias, int m,
                                               int n, int row, int col, float g0, float g1, float u0, float u1) {
    if (row >= m || col >= n) return;
    const int j = inter_column(col);
    const float v0 = activate(g0, u0, bias, j, n / 2);
    const float v1 = activate(g1, u1, bias, j + 1, n / 2);
    __nv_bfloat16* o = out + static_cast<size_t>(row) * ldo + j;
    if (((reinterpret_cast<uintptr_t>(out) | (static_cast<uintptr_t>(ldo) * 2)) & 3) == 0) {
        *reinterpret_cast<uint32_t*>(o) = kd::pack_bf16x2(v0, v1);
    } else {
        o[0] = kd::float_to_bf16(v0);
        o[1] = kd::float_to_bf16(v1);
    }
}

// C's running totals at the pair (row, col), (row, col + 1); 0 outside C. A flush loads all of its pairs before it
// stores any, so that the loads' latencies overlap instead of each waiting behind the previous store.
__device__ __forceinline__ void load_pair(const float* c, int ldc, int m, int n, int row, int col, float& t0,
                                          float& t1) {
    t0 = 0.f;
    t1 = 0.f;
    if (row >= m) return;
    const float* out = c + static_cast<size_t>(row) * ldc;
    if (col < n) t0 = out[col];
    if (col + 1 < n) t1 = out[col + 1];
}

// The K range of this CTA in BK-wide tiles: blockIdx.y's share of the segments, segs_per_cta of them.
template <int BK>
struct KRange {
    static_assert(ONE_SEGMENT_K % BK == 0 && LONG_K_SEGMENT % BK == 0, "a stage never straddles two segments");
    int tiles_per_segment;
    int begin;
    int end;

    __device__ __forceinline__ KRange(int k, int segs_per_cta) {
        const int segment = segment_k(k);
        const int segments = (k + segment - 1) / segment;
        const int first = blockIdx.y * segs_per_cta;
        tiles_per_segment = segment / BK;
        begin = first * tiles_per_segment;
        end = min(min(segments, first + segs_per_cta) * tiles_per_segment, (k + BK - 1) / BK);
    }

    // the segment tile t belongs to, and the tile after its last one in this CTA
    __device__ __forceinline__ int segment(int t) const { return t / tiles_per_segment; }
    __device__ __forceinline__ int segment_end(int seg) const { return min(end, (seg + 1) * tiles_per_segment); }
};

// BM x BN output tile per CTA, WM x WN warps each owning a (BM/WM) x (BN/WN) sub-tile, BK of K per stage.
template <int BM, int BN, int BK, int WM, int WN, int STAGES>
struct Tile {
    static constexpr int THREADS = WM * WN * 32;
    static constexpr int MI = BM / WM / 16;  // m16 fragments per warp
    static constexpr int NI = BN / WN / 8;   // n8 fragments per warp
    using Loader = StageLoader<BM, BN, BK, THREADS>;
    static constexpr int SMEM_BYTES = STAGES * Loader::STAGE_BYTES;
    static_assert(BM % (16 * WM) == 0 && BN % (16 * WN) == 0, "warp tile must be whole m16 x n16 pieces");
    static_assert(STAGES >= 2, "a pipeline needs two buffers");
};

// SILU_MUL: the fused epilogue (see the header) writes out, and c (row stride ldc = n) holds only running totals.
template <int BM, int BN, int BK, int WM, int WN, int STAGES, bool SILU_MUL>
__device__ __forceinline__ void gemm_tile(const __nv_bfloat16* __restrict__ a, int lda,
                                          const __nv_bfloat16* __restrict__ w, float* __restrict__ c, int ldc,
                                          int m, int n, int k, float* __restrict__ ws, int segs_per_cta,
                                          __nv_bfloat16* __restrict__ out, int ldo, const float* __restrict__ bias) {
    using T = Tile<BM, BN, BK, WM, WN, STAGES>;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    const uint32_t smem = smem_addr(smem_raw);
    int m0, n0;
    tile_origin<BM, BN>(m, n, m0, n0);
    const typename T::Loader loader(a, lda, w, m, n, k, m0, n0, smem);

    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warp_m = warp % WM;
    const int warp_n = warp / WM;

    float acc[T::MI][T::NI][4];
#pragma unroll
    for (int i = 0; i < T::MI; i++)
#pragma unroll
        for (int j = 0; j < T::NI; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    const KRange<BK> range(k, segs_per_cta);
    // stores (or adds) the accumulators as segment seg's total, then starts the next segment from zero; one m16
    // row of fragments at a time, its running totals loaded before any of its stores. Where finishes is
    // std::true_type (the fused launch's last flush) and the CTA owns all of K, it activates the final totals
    // instead. Only that flush has the epilogue's code: in the chunk loop, its registers would add to the loop's.
    auto flush = [&](int seg, auto finishes) {
#pragma unroll
        for (int i = 0; i < T::MI; i++) {
            const int row = m0 + warp_m * (BM / WM) + i * 16 + (lane >> 2);
            if (adds_to_c(ws, seg)) {
                float total[T::NI][4];
#pragma unroll
                for (int j = 0; j < T::NI; j++) {
                    const int col = n0 + warp_n * (BN / WN) + j * 8 + (lane & 3) * 2;
                    load_pair(c, ldc, m, n, row, col, total[j][0], total[j][1]);
                    load_pair(c, ldc, m, n, row + 8, col, total[j][2], total[j][3]);
                }
#pragma unroll
                for (int j = 0; j < T::NI; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++) acc[i][j][e] = total[j][e] + acc[i][j][e];
            }
            if (decltype(finishes)::value && final_totals(ws, k, seg)) {
#pragma unroll
                for (int j = 0; j < T::NI; j += 2) {  // gate piece j, up piece j + 1
                    const int col = n0 + warp_n * (BN / WN) + j * 8 + (lane & 3) * 2;
                    store_silu_mul(out, ldo, bias, m, n, row, col, acc[i][j][0], acc[i][j][1], acc[i][j + 1][0],
                                   acc[i][j + 1][1]);
                    store_silu_mul(out, ldo, bias, m, n, row + 8, col, acc[i][j][2], acc[i][j][3], acc[i][j + 1][2],
                                   acc[i][j + 1][3]);
                }
            } else {
#pragma unroll
                for (int j = 0; j < T::NI; j++) {
                    const int col = n0 + warp_n * (BN / WN) + j * 8 + (lane & 3) * 2;
                    put_segment(c, ldc, ws, m, n, seg, row, col, acc[i][j][0], acc[i][j][1]);
                    put_segment(c, ldc, ws, m, n, seg, row + 8, col, acc[i][j][2], acc[i][j][3]);
                }
            }
#pragma unroll
            for (int j = 0; j < T::NI; j++)
#pragma unroll
                for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;
        }
    };

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (range.begin + s < range.end) loader.load(s, range.begin + s);
        cp_async_commit();
    }

    // ldmatrix lane roles. A (x4 = one m16 x k16 fragment): lanes 0-7 rows 0-7 k 0-7, 8-15 rows 8-15 k 0-7,
    // 16-23 rows 0-7 k 8-15, 24-31 rows 8-15 k 8-15, giving a0..a3 in mma order. W (x4 = two n8 x k16
    // fragments): lanes 0-7 n 0-7 k 0-7, 8-15 n 0-7 k 8-15, 16-23 n 8-15 k 0-7, 24-31 n 8-15 k 8-15, giving b0,b1
    // of the first n8 and b0,b1 of the second.
    const int a_row = warp_m * (BM / WM) + (lane & 15);
    const int a_chunk = lane >> 4;
    const int w_row = warp_n * (BN / WN) + (lane & 7) + ((lane >> 4) << 3);
    const int w_chunk = (lane >> 3) & 1;
    const float zero[4] = {0.f, 0.f, 0.f, 0.f};

    // t counts this CTA's tiles from 0; its K tile is range.begin + t. One segment at a time, its total flushed
    // after it, out of the chunk loop (the fused epilogue's last one after the segment loop); loads run ahead across
    // segment ends.
    const int ktiles = range.end - range.begin;
    for (int t0 = 0; t0 < ktiles;) {
        const int seg = range.segment(range.begin + t0);
        const int t1 = range.segment_end(seg) - range.begin;
        for (int t = t0; t < t1; t++) {
            cp_async_wait<STAGES - 2>();
            __syncthreads();  // stage t is visible to all, and every warp is done reading stage t - 1
            if (t + STAGES - 1 < ktiles) loader.load((t + STAGES - 1) % STAGES, range.begin + t + STAGES - 1);
            cp_async_commit();

            const uint32_t sa = smem + (t % STAGES) * T::Loader::STAGE_BYTES;
            const uint32_t sw = sa + BM * BK * 2;
#pragma unroll
            for (int q = 0; q < BK / CHUNK_K; q++) {
                if ((range.begin + t) * BK + q * CHUNK_K >= k) break;  // all zeros past k: skipping them changes no bits
                // One chunk: W fragments of all its steps stay in registers while each m16 row of fragments runs
                // its four-step chains, so a chain's partial sum lives only as long as its four mma.
                uint32_t b[CHUNK_STEPS][T::NI][2];
#pragma unroll
                for (int s = 0; s < CHUNK_STEPS; s++) {
                    const int ch = (q * CHUNK_K + s * 16) / 8;
#pragma unroll
                    for (int j = 0; j < T::NI; j += 2) {
                        uint32_t r[4];
                        ldmatrix_x4(r, sw + swizzled<BK>(w_row + j * 8, ch + w_chunk) * 2);
                        b[s][j][0] = r[0];
                        b[s][j][1] = r[1];
                        b[s][j + 1][0] = r[2];
                        b[s][j + 1][1] = r[3];
                    }
                }
#pragma unroll
                for (int i = 0; i < T::MI; i++) {
                    uint32_t af[CHUNK_STEPS][4];
#pragma unroll
                    for (int s = 0; s < CHUNK_STEPS; s++) {
                        const int ch = (q * CHUNK_K + s * 16) / 8;
                        ldmatrix_x4(af[s], sa + swizzled<BK>(a_row + i * 16, ch + a_chunk) * 2);
                    }
#pragma unroll
                    for (int j = 0; j < T::NI; j++) {
                        float part[4];
                        mma_bf16(part, af[0], b[0][j][0], b[0][j][1], zero);
#pragma unroll
                        for (int s = 1; s < CHUNK_STEPS; s++) mma_bf16(part, af[s], b[s][j][0], b[s][j][1], part);
#pragma unroll
                        for (int e = 0; e < 4; e++) acc[i][j][e] += part[e];
                    }
                }
            }
        }
        if (!SILU_MUL || t1 < ktiles) flush(seg, std::false_type{});
        t0 = t1;
    }
    if constexpr (SILU_MUL) flush(range.segment(range.end - 1), std::true_type{});
    cp_async_wait<0>();
}

}  // namespace

#include "gemm_wgmma.cuh"



// Two entry points per tile shape, NAME (C = A W^T) and NAME_silu_mul (the fused epilogue: out bf16 [m][n / 2]
// with row stride ldo, bias null or fp32 [n], scratch an fp32 [m][n] for a multi-segment K's running totals, else
// unused); Gemm.java mirrors each one's threads, tile and shared-memory size. KD_GEMM_ENTRIES defines both over
// TILE_FN<template arguments..., SILU_MUL>.
#define KD_GEMM_ENTRIES(NAME, THREADS, MIN_BLOCKS, TILE_FN, ...)                                                 \
    extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS)                                          \
        NAME(const __nv_bfloat16* __restrict__ a, int lda, const __nv_bfloat16* __restrict__ w,                 \
             float* __restrict__ c, int ldc, int m, int n, int k, float* __restrict__ ws, int segs_per_cta) {   \
        TILE_FN<__VA_ARGS__, false>(a, lda, w, c, ldc, m, n, k, ws, segs_per_cta, nullptr, 0, nullptr);         \
    }                                                                                                           \
    extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS)                                          \
        NAME##_silu_mul(const __nv_bfloat16* __restrict__ a, int lda, const __nv_bfloat16* __restrict__ w,      \
                        __nv_bfloat16* __restrict__ out, int ldo, int m, int n, int k, float* __restrict__ ws,  \
                        int segs_per_cta, const float* __restrict__ bias, float* __restrict__ scratch) {        \
        TILE_FN<__VA_ARGS__, true>(a, lda, w, scratch, n, m, n, k, ws, segs_per_cta, out, ldo, bias);           \
    }

#define KD_GEMM(NAME, BM, BN, BK, WM, WN, STAGES, MIN_BLOCKS, SMEM)                                         \
    static_assert(Tile<BM, BN, BK, WM, WN, STAGES>::SMEM_BYTES == SMEM, "Gemm.java's shared-memory size"); \
    KD_GEMM_ENTRIES(NAME, WM * WN * 32, MIN_BLOCKS, gemm_tile, BM, BN, BK, WM, WN, STAGES)

// Ctas per multiprocessor (MIN_BLOCKS) and shared memory are sized together: at most 227 KiB per SM.
// prefill: 8 warps of 64 x 64 (a 64 x 32 warp tile would read 192 shared-memory bytes per mma, as much as the
// SM's 128 bytes per clock deliver at mma.sync's peak rate; 64 x 64 reads 128). The 128 x 256 tile fetches 1.33x
// fewer L2 bytes per flop than 128 x 128, which at ~300 TFLOP/s already pulled ~4.7 TB/s out of L2.
KD_GEMM(kd_gemm_128x256, 128, 256, 64, 2, 4, 4, 1, 196608)
// 4 warps of 64 x 64, two CTAs per SM: twice the CTAs of 128 x 256 for prefill too short to fill the GPU
KD_GEMM(kd_gemm_128x128, 128, 128, 64, 2, 2, 3, 2, 98304)
// mid-size m: 4 warps of 32 x 64
KD_GEMM(kd_gemm_64x128, 64, 128, 64, 2, 2, 4, 2, 98304)
// 4 warps of 32 x 32, three CTAs per SM: mid-size m with narrow W
KD_GEMM(kd_gemm_64x64, 64, 64, 64, 2, 2, 4, 3, 65536)
// 4 warps of 32 x 16: many CTAs for narrow W
KD_GEMM(kd_gemm_64x32, 64, 32, 128, 2, 2, 4, 2, 98304)
// decode, m <= 16: W streaming with 4 warps of 16 x 32
KD_GEMM(kd_gemm_16x128, 16, 128, 64, 1, 4, 6, 2, 110592)
// decode, m <= 16, narrow W: 2 warps of 16 x 16 and a deep pipeline, so that few columns still keep enough
// bytes in flight
KD_GEMM(kd_gemm_16x32, 16, 32, 128, 1, 2, 8, 2, 98304)

// sm_90a only (Gemm.java offers them on compute capability 9.x), one CTA per SM: warpgroups of 64 x 128 on wgmma
#define KD_GEMM_WGMMA(NAME, WGS, STAGES, PINGPONG, SMEM)                                                        \
    static_assert(WgmmaTile<WGS, STAGES, PINGPONG>::SMEM_BYTES == SMEM, "Gemm.java's shared-memory size");     \
    KD_GEMM_ENTRIES(NAME, WGS * 128, 1, gemm_tile_wgmma, WGS, STAGES, PINGPONG)

// 2 warpgroups, each overlapping its own adds with its next chunk
KD_GEMM_WGMMA(kd_gemm_128x128_wgmma, 2, 6, true, 197632)
// 3 warpgroups (a sixth fewer L2 bytes per flop than 128 x 128), overlapping one's adds with the others' chunks
KD_GEMM_WGMMA(kd_gemm_192x128_wgmma, 3, 5, false, 205824)
// 1 warpgroup with a deep pipeline: twice the CTAs of 128 x 128 where m ~ 128..256 leaves most multiprocessors
// idle (two CTAs of 4 stages a multiprocessor measured slower on every shape)
KD_GEMM_WGMMA(kd_gemm_64x128_wgmma, 1, 8, true, 197632)

// slab 0 + slab 1 + ... at element i in ascending order: the total of a split launch's segments, added as a CTA
// owning all of K adds them, so a split changes no bits.
__device__ __forceinline__ float slab_total(const float* __restrict__ ws, int segments, size_t slab, size_t i) {
    float total = ws[i];
    for (int s = 1; s < segments; s++) total = total + ws[s * slab + i];
    return total;
}

// C = the slabs' totals.
extern "C" __global__ void kd_gemm_reduce(const float* __restrict__ ws, int segments, float* __restrict__ c,
                                          int ldc, int m, int n) {
    const size_t slab = static_cast<size_t>(m) * n;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < slab;
         i += static_cast<size_t>(gridDim.x) * blockDim.x) {
        c[(i / n) * ldc + i % n] = slab_total(ws, segments, slab, i);
    }
}

// The fused epilogue after a split launch of a *_silu_mul entry: out[row][j] (row stride ldo) = the activation of
// the slabs' gate and up totals of intermediate column j.
extern "C" __global__ void kd_gemm_reduce_silu_mul(const float* __restrict__ ws, int segments,
                                                   __nv_bfloat16* __restrict__ out, int ldo, int m, int n,
                                                   const float* __restrict__ bias) {
    const size_t slab = static_cast<size_t>(m) * n;
    const int inter = n / 2;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < slab / 2;
         i += static_cast<size_t>(gridDim.x) * blockDim.x) {
        const size_t row = i / inter;
        const int j = static_cast<int>(i % inter);
        const size_t gate = row * n + (j / 8) * 16 + j % 8;  // inter_column's inverse
        const float g = slab_total(ws, segments, slab, gate);
        const float u = slab_total(ws, segments, slab, gate + 8);
        out[row * ldo + j] = kd::float_to_bf16(activate(g, u, bias, j, inter));
    }
}
