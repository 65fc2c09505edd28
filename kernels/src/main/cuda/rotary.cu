// RoPE in transformers' rotate_half layout (pair i = (x[i], x[i + headDim/2])) on the q and k heads of qkv,
// preceded by Qwen3's per-head RMSNorm of q and k when their weights are given. The angle is (float) pos *
// invFreq[i] in fp32 and its cos/sin come from the accurate sincosf (Payne-Hanek reduction for the large angles of
// long positions), as the CPU twin and transformers compute them; invFreq already holds any llama3 scaling. One CTA
// per token: it tabulates the token's cos/sin once, then each warp takes whole heads. kd_rotary_cache, the engine's,
// also stores the token's K/V into the paged cache; kd_rotary rotates q and k in place.
#include "elementwise.cuh"

namespace {

constexpr int kMaxHalf = 128;  // head_dim <= 256

template <int V>
__device__ __forceinline__ void load_vec(const float* p, float (&v)[V]) {
    if constexpr (V == 4) {
        const float4 a = *reinterpret_cast<const float4*>(p);
        v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
    } else if constexpr (V == 2) {
        const float2 a = *reinterpret_cast<const float2*>(p);
        v[0] = a.x; v[1] = a.y;
    } else {
        v[0] = *p;
    }
}

template <int V>
__device__ __forceinline__ void store_vec(float* p, const float (&v)[V]) {
    if constexpr (V == 4) {
        *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
    } else if constexpr (V == 2) {
        *reinterpret_cast<float2*>(p) = make_float2(v[0], v[1]);
    } else {
        *p = v[0];
    }
}


// V bf16 values, each rounded to nearest even on its own (as reshape_and_cache rounds), in one store of 2V bytes.
template <int V>
__device__ __forceinline__ void store_bf16(__nv_bfloat16* p, const float (&v)[V]) {
    if constexpr (V == 4) {
        *reinterpret_cast<uint2*>(p) = make_uint2(kd::pack_bf16x2(v[0], v[1]), kd::pack_bf16x2(v[2], v[3]));
    } else if constexpr (V == 2) {
        *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(v[0], v[1]);
    } else {
        *p = kd::float_to_bf16(v[0]);
    }
}

// Where a head's values go, lane by lane: pairs [i, i + V) and [half + i, half + i + V) of the head.
// ToRow: back into the head's place in the qkv row (fp32).
struct ToRow {
    float* head;
    int half;

    template <int V>
    __device__ __forceinline__ void operator()(int i, const float (&lo)[V], const float (&hi)[V]) const {
        store_vec<V>(head + i, lo);
        store_vec<V>(head + half + i, hi);
    }
};

// ToCache: into the head's row of the paged cache (bf16): V-wide stores where the cache planes are 8-byte aligned
// (a cache row starts at a multiple of head_dim, and V > 1 only where head_dim is a multiple of 2V), else one by one.
struct ToCache {
    __nv_bfloat16* row;
    int half;
    bool wide;

    template <int V>
    __device__ __forceinline__ void operator()(int i, const float (&lo)[V], const float (&hi)[V]) const {
        if (wide) {
            store_bf16<V>(row + i, lo);
            store_bf16<V>(row + half + i, hi);
        } else {
#pragma unroll
            for (int k = 0; k < V; k++) {
                row[i + k] = kd::float_to_bf16(lo[k]);
                row[half + i + k] = kd::float_to_bf16(hi[k]);
            }
        }
    }
};

// One warp rotates one head of 2 * half values and hands the result to `store`. Lane l holds pairs
// [c * V, c * V + V) for c = l, l + 32, ...; V is chosen per launch, the same for every token, so the q/k norm's
// summation order is too, and the same for both kernels below: they compute bit-identical values.
template <int V, class Store>
__device__ __forceinline__ void rotate_head(const float* head, const float* cos_t, const float* sin_t,
                                            const __nv_bfloat16* norm, float eps, int half, const Store& store) {
    constexpr int R = kMaxHalf / 32 / V;
    const int lane = threadIdx.x & 31;
    float a[R][V];
    float b[R][V];
    float sum = 0.f;
#pragma unroll
    for (int r = 0; r < R; r++) {
        const int i = (lane + 32 * r) * V;
        if (i < half) {
            load_vec<V>(head + i, a[r]);
            load_vec<V>(head + half + i, b[r]);
#pragma unroll
            for (int k = 0; k < V; k++) {
                sum += a[r][k] * a[r][k];
                sum += b[r][k] * b[r][k];
            }
        }
    }
    if (norm != nullptr) {
        sum = kd::warp_sum(sum);
        const float inv = rsqrtf(sum / static_cast<float>(2 * half) + eps);
#pragma unroll
        for (int r = 0; r < R; r++) {
            const int i = (lane + 32 * r) * V;
            if (i < half) {
#pragma unroll
                for (int k = 0; k < V; k++) {
                    a[r][k] = kd::bf16_to_float(norm[i + k]) * (a[r][k] * inv);
                    b[r][k] = kd::bf16_to_float(norm[half + i + k]) * (b[r][k] * inv);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < R; r++) {
        const int i = (lane + 32 * r) * V;
        if (i < half) {
            float lo[V];
            float hi[V];
#pragma unroll
            for (int k = 0; k < V; k++) {
                const float c = cos_t[i + k];
                const float s = sin_t[i + k];
                // no FMA contraction: each product rounds on its own, as in the CPU twin and torch
                lo[k] = __fsub_rn(__fmul_rn(a[r][k], c), __fmul_rn(b[r][k], s));
                hi[k] = __fadd_rn(__fmul_rn(b[r][k], c), __fmul_rn(a[r][k], s));
            }
            store(i, lo, hi);
        }
    }
}

// One warp hands one head to `store` as it is (v: no rotation), in the lanes' layout of rotate_head.
template <int V, class Store>
__device__ __forceinline__ void copy_head(const float* head, int half, const Store& store) {
    const int lane = threadIdx.x & 31;
    for (int i = lane * V; i < half; i += 32 * V) {
        float lo[V];
        float hi[V];
        load_vec<V>(head + i, lo);
        load_vec<V>(head + half + i, hi);
        store(i, lo, hi);
    }
}

// The token's cos/sin, one entry per thread of the block; callers synchronize before reading them.
__device__ __forceinline__ void tabulate(float* cos_t, float* sin_t, int position, const float* inv_freq, int half) {
    const float pos = static_cast<float>(position);
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        sincosf(__fmul_rn(pos, inv_freq[i]), &sin_t[i], &cos_t[i]);
    }
}

// Widest vector that keeps all 32 lanes busy and every access aligned; the same for every token.
__device__ __forceinline__ int vector_width(const float* qkv, int qkv_stride, int half) {
    const uintptr_t base = reinterpret_cast<uintptr_t>(qkv);
    if (half % 4 == 0 && half >= 128 && qkv_stride % 4 == 0 && base % 16 == 0) {
        return 4;
    }
    if (half % 2 == 0 && half >= 64 && qkv_stride % 2 == 0 && base % 8 == 0) {
        return 2;
    }
    return 1;
}

// The q and k heads of one token's row (k heads follow the q heads), each warp taking whole heads.
template <int V>
__device__ __forceinline__ void rotary_row(float* row, const float* cos_t, const float* sin_t,
                                           const __nv_bfloat16* q_norm, const __nv_bfloat16* k_norm, float eps,
                                           int num_heads, int num_kv_heads, int head_dim) {
    const int half = head_dim / 2;
    const int warps = blockDim.x >> 5;
    for (int h = threadIdx.x >> 5; h < num_heads + num_kv_heads; h += warps) {
        float* head = row + static_cast<size_t>(h) * head_dim;
        rotate_head<V>(head, cos_t, sin_t, h < num_heads ? q_norm : k_norm, eps, half, ToRow{head, half});
    }
}

// One token's row with its k and v going to the cache at `slot` (-1: a padding token, whose k and v nobody reads,
// so only its q is rotated). v needs no cos/sin: its heads are stored while the table is being filled.
template <int V>
__device__ __forceinline__ void rotary_cache_row(float* row, int slot, const float* cos_t,
                                                 const float* sin_t, const __nv_bfloat16* q_norm,
                                                 const __nv_bfloat16* k_norm, float eps, int num_heads,
                                                 int num_kv_heads, int head_dim, __nv_bfloat16* k_cache,
                                                 __nv_bfloat16* v_cache, int block_size) {
    const int half = head_dim / 2;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    const int kv_heads = slot >= 0 ? num_kv_heads : 0;
    const bool wide = ((reinterpret_cast<uintptr_t>(k_cache) | reinterpret_cast<uintptr_t>(v_cache)) & 7u) == 0;
    // reshape_and_cache's layout: [block][kv head][offset in block][head_dim]
    const auto cache_row = [&](__nv_bfloat16* plane, int h) {
        const long long block = slot / block_size;
        const int offset = slot % block_size;
        return plane + ((block * num_kv_heads + h) * block_size + offset) * head_dim;
    };
    for (int h = warp; h < kv_heads; h += warps) {
        copy_head<V>(row + static_cast<size_t>(num_heads + num_kv_heads + h) * head_dim, half,
                     ToCache{cache_row(v_cache, h), half, wide});
    }
    __syncthreads();
    for (int h = warp; h < num_heads + kv_heads; h += warps) {
        const size_t at = static_cast<size_t>(h) * head_dim;
        if (h < num_heads) {
            rotate_head<V>(row + at, cos_t, sin_t, q_norm, eps, half, ToRow{row + at, half});
        } else {
            rotate_head<V>(row + at, cos_t, sin_t, k_norm, eps, half,
                           ToCache{cache_row(k_cache, h - num_heads), half, wide});
        }
    }
}

}  // namespace

// RoPE in place on q and k, for callers that read the rotated k from the row (the fused kernel below is the
// engine's; this one is its reference in the tests and benchmark).
extern "C" __global__ void kd_rotary(float* __restrict__ qkv, int qkv_stride, const int* __restrict__ positions,
                                     const float* __restrict__ inv_freq, const __nv_bfloat16* __restrict__ q_norm,
                                     const __nv_bfloat16* __restrict__ k_norm, float eps, int num_heads,
                                     int num_kv_heads, int head_dim) {
    __shared__ float cos_t[kMaxHalf];
    __shared__ float sin_t[kMaxHalf];
    const int t = blockIdx.x;
    const int half = head_dim / 2;
    tabulate(cos_t, sin_t, positions[t], inv_freq, half);
    __syncthreads();
    float* row = qkv + static_cast<size_t>(t) * qkv_stride;
    const int v = vector_width(qkv, qkv_stride, half);
    if (v == 4) {
        rotary_row<4>(row, cos_t, sin_t, q_norm, k_norm, eps, num_heads, num_kv_heads, head_dim);
    } else if (v == 2) {
        rotary_row<2>(row, cos_t, sin_t, q_norm, k_norm, eps, num_heads, num_kv_heads, head_dim);
    } else {
        rotary_row<1>(row, cos_t, sin_t, q_norm, k_norm, eps, num_heads, num_kv_heads, head_dim);
    }
}

// kd_rotary and then kd_reshape_and_cache (kv_cache.cu) in one pass, with the same values bit for bit: q is rotated
// in place (attention reads it from the row), the rotated k and the v go straight to the paged cache as bf16, and
// the row's k stays as the GEMM wrote it (attention reads this step's keys from the cache). Saves writing k back
// and reading k and v again, and a launch.
extern "C" __global__ void kd_rotary_cache(float* __restrict__ qkv, int qkv_stride,
                                           const int* __restrict__ positions, const int* __restrict__ slot_mapping,
                                           const float* __restrict__ inv_freq,
                                           const __nv_bfloat16* __restrict__ q_norm,
                                           const __nv_bfloat16* __restrict__ k_norm, float eps, int num_heads,
                                           int num_kv_heads, int head_dim, __nv_bfloat16* __restrict__ k_cache,
                                           __nv_bfloat16* __restrict__ v_cache, int block_size) {
    __shared__ float cos_t[kMaxHalf];
    __shared__ float sin_t[kMaxHalf];
    const int t = blockIdx.x;
    const int half = head_dim / 2;
    tabulate(cos_t, sin_t, positions[t], inv_freq, half);
    float* row = qkv + static_cast<size_t>(t) * qkv_stride;
    const int slot = slot_mapping[t];
    const int v = vector_width(qkv, qkv_stride, half);
    if (v == 4) {
        rotary_cache_row<4>(row, slot, cos_t, sin_t, q_norm, k_norm, eps, num_heads, num_kv_heads, head_dim,
                            k_cache, v_cache, block_size);
    } else if (v == 2) {
        rotary_cache_row<2>(row, slot, cos_t, sin_t, q_norm, k_norm, eps, num_heads, num_kv_heads, head_dim,
                            k_cache, v_cache, block_size);
    } else {
        rotary_cache_row<1>(row, slot, cos_t, sin_t, q_norm, k_norm, eps, num_heads, num_kv_heads, head_dim,
                            k_cache, v_cache, block_size);
    }
}
