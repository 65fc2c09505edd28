// The wgmma (sm_90a) tiles of gemm.cu: WGS warpgroups stacked along M, each computing 64 x 128 of C with
// wgmma.m64n128k16, both operands read by the tensor cores straight from shared memory. gemm.cu's helpers load
// the stages (cp.async; its swizzle on 128-byte rows is wgmma's 128-byte swizzle), and the reduction order is
// gemm.cu's: per 64-wide K chunk (one stage) a four-step wgmma chain starting from zero, then one FADD into the
// fp32 total, chunks ascending, the total flushed at every K segment's end (put_segment). With PINGPONG, each
// warpgroup keeps two partial sums: while the tensor cores run chunk t into one, its warps add chunk t - 1's into
// the total. Without, a warpgroup waits for its chunk before adding it, and the other warpgroups' chunks keep the
// tensor cores busy meanwhile; that needs 64 registers fewer, enough for a third warpgroup. SILU_MUL is gemm.cu's
// fused epilogue: a thread's accumulators 4j..4j+3 are the 16 x 8 piece j in mma.sync's fragment layout, so pieces
// 2i (gate) and 2i + 1 (up) pair up as there.
#pragma once

namespace {

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)

// Matrix descriptor of a K-major operand tile with the 128-byte swizzle: start address, leading offset (unused
// by this swizzle), 1024 bytes between 8-row groups.
__device__ __forceinline__ uint64_t wgmma_desc(uint32_t addr) {
    return static_cast<uint64_t>((addr & 0x3FFFF) >> 4) | (static_cast<uint64_t>(1) << 16) |
           (static_cast<uint64_t>(1024 >> 4) << 32) | (static_cast<uint64_t>(1) << 62);
}

// One m64n128k16 bf16 wgmma into the 64 accumulators d of each thread; SCALE_D 1 adds to d, 0 overwrites it.
// D_CONSTRAINT is "+f" (read and written) or "=f" (written only).
#define KD_WGMMA_M64N128K16(D_CONSTRAINT, SCALE_D)                                                              \
    asm volatile(                                                                                               \
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"                                                              \
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"                                              \
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                               \
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "                     \
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "                      \
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"                        \
        "}, %64, %65, p, 1, 1, 0, 0;\n}\n"                                                                        \
        : KD_D64(D_CONSTRAINT)                                                                                  \
        : "l"(desc_a), "l"(desc_b), "n"(SCALE_D))

// the 64 accumulator operands of a wgmma, each with constraint C
#define KD_D64(C)                                                                                               \
    C(d[0]), C(d[1]), C(d[2]), C(d[3]), C(d[4]), C(d[5]), C(d[6]), C(d[7]), C(d[8]), C(d[9]), C(d[10]),         \
    C(d[11]), C(d[12]), C(d[13]), C(d[14]), C(d[15]), C(d[16]), C(d[17]), C(d[18]), C(d[19]), C(d[20]),         \
    C(d[21]), C(d[22]), C(d[23]), C(d[24]), C(d[25]), C(d[26]), C(d[27]), C(d[28]), C(d[29]), C(d[30]),         \
    C(d[31]), C(d[32]), C(d[33]), C(d[34]), C(d[35]), C(d[36]), C(d[37]), C(d[38]), C(d[39]), C(d[40]),         \
    C(d[41]), C(d[42]), C(d[43]), C(d[44]), C(d[45]), C(d[46]), C(d[47]), C(d[48]), C(d[49]), C(d[50]),         \
    C(d[51]), C(d[52]), C(d[53]), C(d[54]), C(d[55]), C(d[56]), C(d[57]), C(d[58]), C(d[59]), C(d[60]),         \
    C(d[61]), C(d[62]), C(d[63])

// d += A[64][16] x B[128][16]^T
__device__ __forceinline__ void wgmma_acc(float (&d)[64], uint64_t desc_a, uint64_t desc_b) {
    KD_WGMMA_M64N128K16("+f", 1);
}

// d = A[64][16] x B[128][16]^T; d is write-only here, which lets ptxas see that the warps may still read the
// other partial sum while this chain runs (with "+f", it serializes every wgmma)
__device__ __forceinline__ void wgmma_first(float (&d)[64], uint64_t desc_a, uint64_t desc_b) {
    KD_WGMMA_M64N128K16("=f", 0);
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }

__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }

template <int N>
__device__ __forceinline__ void wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

// Keeps the compiler from moving accesses to registers an in-flight wgmma writes across the wait for it.
__device__ __forceinline__ void fence_operands(float (&d)[64]) {
#pragma unroll
    for (int e = 0; e < 64; e++) asm volatile("" : "+f"(d[e])::"memory");
}

#endif

template <int WGS, int STAGES, bool PINGPONG>
struct WgmmaTile {
    static constexpr int BM = 64 * WGS;
    static constexpr int BN = 128;
    static constexpr int BK = CHUNK_K;  // one stage is one reduction chunk
    static constexpr int THREADS = 128 * WGS;
    using Loader = StageLoader<BM, BN, BK, THREADS>;
    // 1024 bytes of slack: the swizzle pattern repeats every 1024 bytes, so tiles start on that alignment
    static constexpr int SMEM_BYTES = STAGES * Loader::STAGE_BYTES + 1024;
    // Loads run AHEAD stages in front of the chunk being computed; with PINGPONG, the stage before that one may
    // still be read by the previous chunk's wgmma, which the warps wait for only after issuing the next.
    static constexpr int AHEAD = PINGPONG ? STAGES - 2 : STAGES - 1;
    static_assert(AHEAD >= 1, "one stage loading while one is computed");
};

template <int WGS, int STAGES, bool PINGPONG, bool SILU_MUL>
__device__ __forceinline__ void gemm_tile_wgmma(const __nv_bfloat16* __restrict__ a, int lda,
                                                const __nv_bfloat16* __restrict__ w, float* __restrict__ c,
                                                int ldc, int m, int n, int k, float* __restrict__ ws,
                                                int segs_per_cta, __nv_bfloat16* __restrict__ out, int ldo,
                                                const float* __restrict__ bias) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
    using T = WgmmaTile<WGS, STAGES, PINGPONG>;
    constexpr int BK = T::BK;
    constexpr int AHEAD = T::AHEAD;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    const uint32_t smem = (smem_addr(smem_raw) + 1023) & ~1023u;
    int m0, n0;
    tile_origin<T::BM, T::BN>(m, n, m0, n0);
    const typename T::Loader loader(a, lda, w, m, n, k, m0, n0, smem);
    const int wg = threadIdx.x / 128;

    float acc[64];
    float part0[64];
#pragma unroll
    for (int e = 0; e < 64; e++) acc[e] = 0.f;

    const KRange<BK> range(k, segs_per_cta);
    const int lane = threadIdx.x & 31;
    const int row = m0 + wg * 64 + ((threadIdx.x >> 5) & 3) * 16 + (lane >> 2);
    // stores (or adds) acc as segment seg's total, then starts the next segment from zero. C's running totals go
    // through part0, free between segments, all loaded before the first store. Where finishes is std::true_type
    // (the fused launch's last flush) and the CTA owns all of K, it activates the final totals instead. Only that
    // flush has the epilogue's code: in the chunk loop, its registers would add to the loop's.
    auto flush = [&](int seg, auto finishes) {
        if (adds_to_c(ws, seg)) {
#pragma unroll
            for (int j = 0; j < T::BN / 8; j++) {
                const int col = n0 + j * 8 + (lane & 3) * 2;
                load_pair(c, ldc, m, n, row, col, part0[4 * j], part0[4 * j + 1]);
                load_pair(c, ldc, m, n, row + 8, col, part0[4 * j + 2], part0[4 * j + 3]);
            }
#pragma unroll
            for (int e = 0; e < 64; e++) acc[e] = part0[e] + acc[e];
        }
        if (decltype(finishes)::value && final_totals(ws, k, seg)) {
#pragma unroll
            for (int j = 0; j < T::BN / 8; j += 2) {  // gate piece j, up piece j + 1
                const int col = n0 + j * 8 + (lane & 3) * 2;
                store_silu_mul(out, ldo, bias, m, n, row, col, acc[4 * j], acc[4 * j + 1], acc[4 * j + 4],
                               acc[4 * j + 5]);
                store_silu_mul(out, ldo, bias, m, n, row + 8, col, acc[4 * j + 2], acc[4 * j + 3], acc[4 * j + 6],
                               acc[4 * j + 7]);
            }
        } else {
#pragma unroll
            for (int j = 0; j < T::BN / 8; j++) {
                const int col = n0 + j * 8 + (lane & 3) * 2;
                put_segment(c, ldc, ws, m, n, seg, row, col, acc[4 * j], acc[4 * j + 1]);
                put_segment(c, ldc, ws, m, n, seg, row + 8, col, acc[4 * j + 2], acc[4 * j + 3]);
            }
        }
#pragma unroll
        for (int e = 0; e < 64; e++) acc[e] = 0.f;
    };

    // t below counts this CTA's tiles from 0; its K tile is range.begin + t
    const int ktiles = range.end - range.begin;
#pragma unroll
    for (int s = 0; s < AHEAD; s++) {
        if (s < ktiles) loader.load(s, range.begin + s);
        cp_async_commit();
    }

    auto issue = [&](int t, float (&part)[64]) {
        cp_async_wait<AHEAD - 1>();
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");  // cp.async data, read by wgmma
        __syncthreads();  // stage t is complete, and every warpgroup is done with the stage loaded next
        if (t + AHEAD < ktiles) loader.load((t + AHEAD) % STAGES, range.begin + t + AHEAD);
        cp_async_commit();
        const uint32_t stage = smem + (t % STAGES) * T::Loader::STAGE_BYTES;
        const uint32_t sa = stage + wg * 64 * BK * 2;
        const uint32_t sw = stage + T::BM * BK * 2;
        wgmma_fence();
        wgmma_first(part, wgmma_desc(sa), wgmma_desc(sw));
#pragma unroll
        for (int s = 1; s < CHUNK_STEPS; s++) {
            wgmma_acc(part, wgmma_desc(sa + s * 32), wgmma_desc(sw + s * 32));
        }
        wgmma_commit();
    };
    auto drain = [&](float (&part)[64]) {
        fence_operands(part);
#pragma unroll
        for (int e = 0; e < 64; e++) acc[e] += part[e];
    };

    // One segment at a time, its total flushed between them: the flush stays out of the chunk loop, whose
    // registers and schedule are then those of a single-segment launch. Loads run ahead across segment ends.
    for (int t0 = 0; t0 < ktiles;) {
        const int seg = range.segment(range.begin + t0);
        const int t1 = range.segment_end(seg) - range.begin;
        if constexpr (PINGPONG) {
            float part1[64];
            issue(t0, part0);
            int t = t0 + 1;
            for (; t + 1 < t1; t += 2) {
                issue(t, part1);
                wgmma_wait<1>();
                drain(part0);  // chunk t - 1
                issue(t + 1, part0);
                wgmma_wait<1>();
                drain(part1);  // chunk t
            }
            if (t < t1) {
                issue(t, part1);
                wgmma_wait<1>();
                drain(part0);
                wgmma_wait<0>();
                drain(part1);
            } else {
                wgmma_wait<0>();
                drain(part0);
            }
        } else {
            for (int t = t0; t < t1; t++) {
                issue(t, part0);
                wgmma_wait<0>();
                drain(part0);
            }
        }
        if (t1 < ktiles) flush(seg, std::false_type{});
        t0 = t1;
    }
    cp_async_wait<0>();
    flush(range.segment(range.end - 1), std::bool_constant<SILU_MUL>{});
#else
    __trap();  // Gemm.java launches this tile only on sm_90
#endif
}

}  // namespace
