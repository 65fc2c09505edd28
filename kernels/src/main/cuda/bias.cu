// QKV bias: x[t][j] += bias[j] in fp32, as the CPU adds the bias to each finished dot product. One CTA per row.
#include "elementwise.cuh"

extern "C" __global__ void kd_add_bias(float* __restrict__ x, const float* __restrict__ bias, int width) {
    float* row = x + static_cast<size_t>(blockIdx.x) * width;
    if ((width & 3) == 0 && kd::aligned16(row) && kd::aligned16(bias)) {
        float4* row4 = reinterpret_cast<float4*>(row);
        const float4* bias4 = reinterpret_cast<const float4*>(bias);
        for (int c = threadIdx.x; c < width / 4; c += blockDim.x) {
            float4 v = row4[c];
            const float4 b = bias4[c];
            v.x += b.x;
            v.y += b.y;
            v.z += b.z;
            v.w += b.w;
            row4[c] = v;
        }
    } else {
        for (int j = threadIdx.x; j < width; j += blockDim.x) {
            row[j] += bias[j];
        }
    }
}
