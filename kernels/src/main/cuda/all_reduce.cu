// The sum of a tensor-parallel all-reduce: out[i] = parts[0][i] + parts[1][i] + ... + parts[n-1][i], added in rank
// order. Every rank sums the same partials in the same order, so all ranks get the same bits, and an element's sum
// never depends on the other rows of the batch. The peer copies that bring the partials together are the host's
// (PeerAllReduce); `out` may be one of the parts (a rank's own partial, reduced in place): each element is read
// before it is written, by the same thread.
#include "elementwise.cuh"

namespace {

constexpr int kMaxParts = 8;

struct Parts {
    const float* p[kMaxParts];
};

__device__ __forceinline__ float sum_at(const Parts& parts, int num_parts, long long i) {
    float s = parts.p[0][i];
#pragma unroll
    for (int r = 1; r < kMaxParts; r++) {
        if (r < num_parts) s += parts.p[r][i];
    }
    return s;
}

__device__ __forceinline__ float4 sum4_at(const Parts& parts, int num_parts, long long i4) {
    float4 s = reinterpret_cast<const float4*>(parts.p[0])[i4];
#pragma unroll
    for (int r = 1; r < kMaxParts; r++) {
        if (r < num_parts) {
            const float4 v = reinterpret_cast<const float4*>(parts.p[r])[i4];
            s.x += v.x;
            s.y += v.y;
            s.z += v.z;
            s.w += v.w;
        }
    }
    return s;
}

}  // namespace

// Grid-stride over `count` floats; parts beyond `num_parts` are null and never read.
extern "C" __global__ void kd_sum_partials(float* out, const float* p0, const float* p1, const float* p2,
                                           const float* p3, const float* p4, const float* p5, const float* p6,
                                           const float* p7, int num_parts, long long count) {
    const Parts parts = {{p0, p1, p2, p3, p4, p5, p6, p7}};
    bool vector = (count & 3) == 0 && kd::aligned16(out);
    for (int r = 0; r < num_parts; r++) {
        vector = vector && kd::aligned16(parts.p[r]);
    }
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (vector) {
        for (long long i = first; i < count / 4; i += stride) {
            reinterpret_cast<float4*>(out)[i] = sum4_at(parts, num_parts, i);
        }
    } else {
        for (long long i = first; i < count; i += stride) {
            out[i] = sum_at(parts, num_parts, i);
        }
    }
}
