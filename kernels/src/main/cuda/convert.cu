// fp32 -> bf16, round to nearest even (torch's .to(torch.bfloat16)): converts fp32 checkpoints on upload.
#include "elementwise.cuh"

extern "C" __global__ void kd_to_bf16(const float* __restrict__ src, __nv_bfloat16* __restrict__ dst,
                                      long long count) {
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    long long done = 0;
    if (kd::aligned16(src) && kd::aligned16(dst)) {
        const long long chunks = count / 8;
        for (long long c = first; c < chunks; c += stride) {
            float v[8];
            kd::load_f32x8(src + c * 8, v);
            kd::store_bf16x8(dst + c * 8, v);
        }
        done = chunks * 8;
    }
    for (long long i = done + first; i < count; i += stride) {
        dst[i] = kd::float_to_bf16(src[i]);
    }
}
