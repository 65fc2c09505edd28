// RoPE in transformers' rotate_half layout (pair i = (x[i], x[i + headDim/2])) on the q and k heads of qkv, in
// place, preceded by Qwen3's per-head RMSNorm of q and k when their weights are given. The angle is
// (float) pos * invFreq[i] in fp32 and its cos/sin come from the accurate sincosf (Payne-Hanek reduction for the
// large angles of long positions), as the CPU twin and transformers compute them; invFreq already holds any
// llama3 scaling. One CTA per token: it tabulates the token's cos/sin once, then each warp takes whole heads.
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

// One warp rotates one head of 2 * half values. Lane l holds pairs [c * V, c * V + V) for c = l, l + 32, ...;
// V is chosen per launch from head_dim alone, so the q/k norm's summation order is the same for every token.
template <int V>
__device__ __forceinline__ void rotate_head(float* head, const float* cos_t, const float* sin_t,
                                            const __nv_bfloat16* norm, float eps, int half) {
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
            store_vec<V>(head + i, lo);
            store_vec<V>(head + half + i, hi);
        }
    }
}

}  // namespace

extern "C" __global__ void kd_rotary(float* __restrict__ qkv, int qkv_stride, const int* __restrict__ positions,
                                     const float* __restrict__ inv_freq, const __nv_bfloat16* __restrict__ q_norm,
                                     const __nv_bfloat16* __restrict__ k_norm, float eps, int num_heads,
                                     int num_kv_heads, int head_dim) {
    __shared__ float cos_t[kMaxHalf];
    __shared__ float sin_t[kMaxHalf];
    const int t = blockIdx.x;
    const int half = head_dim / 2;
    const float pos = static_cast<float>(positions[t]);
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        sincosf(__fmul_rn(pos, inv_freq[i]), &sin_t[i], &cos_t[i]);
    }
    __syncthreads();

    // Widest vector that keeps all 32 lanes busy and every access aligned; the same for every token.
    const uintptr_t base = reinterpret_cast<uintptr_t>(qkv);
    int v = 1;
    if (half % 4 == 0 && half >= 128 && qkv_stride % 4 == 0 && base % 16 == 0) {
        v = 4;
    } else if (half % 2 == 0 && half >= 64 && qkv_stride % 2 == 0 && base % 8 == 0) {
        v = 2;
    }
    float* row = qkv + static_cast<size_t>(t) * qkv_stride;
    const int warps = blockDim.x >> 5;
    for (int h = threadIdx.x >> 5; h < num_heads + num_kv_heads; h += warps) {
        const bool is_q = h < num_heads;
        float* head = row + static_cast<size_t>(h) * head_dim;  // k heads follow the q heads
        const __nv_bfloat16* norm = is_q ? q_norm : k_norm;
        if (v == 4) {
            rotate_head<4>(head, cos_t, sin_t, norm, eps, half);
        } else if (v == 2) {
            rotate_head<2>(head, cos_t, sin_t, norm, eps, half);
        } else {
            rotate_head<1>(head, cos_t, sin_t, norm, eps, half);
        }
    }
}
