// Embedding gather: x[t] = float(table[ids[t]]), the residual stream's start. One CTA per token; widening bf16 to
// fp32 is exact. ids are trusted: the engine validates them against the vocabulary before the step.
#include "elementwise.cuh"

extern "C" __global__ void kd_embedding(const int* __restrict__ ids, const __nv_bfloat16* __restrict__ table,
                                        float* __restrict__ x, int h) {
    const int t = blockIdx.x;
    const __nv_bfloat16* src = table + static_cast<size_t>(ids[t]) * h;
    float* dst = x + static_cast<size_t>(t) * h;
    if ((h & 7) == 0 && kd::aligned16(src) && kd::aligned16(dst)) {
        for (int c = threadIdx.x * 8; c < h; c += blockDim.x * 8) {
            float v[8];
            kd::load_bf16x8(src + c, v);
            kd::store_f32x8(dst + c, v);
        }
    } else {
        for (int i = threadIdx.x; i < h; i += blockDim.x) {
            dst[i] = kd::bf16_to_float(src[i]);
        }
    }
}
