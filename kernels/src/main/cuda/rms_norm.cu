// RMSNorm as transformers' LlamaRMSNorm computes it: mean of squares in fp32, x * rsqrt(var + eps), times the
// weight, rounded to bf16 for the next GEMM. One CTA per row; the sum of squares is reduced in a fixed order that
// depends only on h (the launcher derives blockDim from h), so a row's result does not depend on the batch.
#include "elementwise.cuh"

namespace {

// x_row (+= delta_row, written back when write_back) -> out_row = bf16(w * (x * rsqrt(mean(x^2) + eps))).
// The second pass re-reads x_row: each thread reads back only the elements it wrote in the first.
__device__ __forceinline__ void norm_row(float* __restrict__ x_row, const float* __restrict__ delta_row,
                                         bool write_back, const __nv_bfloat16* __restrict__ w, float eps,
                                         __nv_bfloat16* __restrict__ out_row, int h) {
    __shared__ float scratch[32];
    const bool vec = (h & 7) == 0 && kd::aligned16(x_row) && kd::aligned16(w) && kd::aligned16(out_row)
            && (delta_row == nullptr || kd::aligned16(delta_row));
    float sum = 0.f;
    if (vec) {
        for (int c = threadIdx.x * 8; c < h; c += blockDim.x * 8) {
            float v[8];
            kd::load_f32x8(x_row + c, v);
            if (delta_row != nullptr) {
                float d[8];
                kd::load_f32x8(delta_row + c, d);
#pragma unroll
                for (int k = 0; k < 8; k++) {
                    v[k] += d[k];
                }
                if (write_back) {
                    kd::store_f32x8(x_row + c, v);
                }
            }
#pragma unroll
            for (int k = 0; k < 8; k++) {
                sum += v[k] * v[k];
            }
        }
    } else {
        for (int i = threadIdx.x; i < h; i += blockDim.x) {
            float v = x_row[i];
            if (delta_row != nullptr) {
                v += delta_row[i];
                if (write_back) {
                    x_row[i] = v;
                }
            }
            sum += v * v;
        }
    }
    sum = kd::block_sum(sum, scratch);
    const float inv = rsqrtf(sum / static_cast<float>(h) + eps);
    // w * (x * inv): two roundings in this order, as the CPU twin and transformers multiply
    if (vec) {
        for (int c = threadIdx.x * 8; c < h; c += blockDim.x * 8) {
            float v[8];
            float wv[8];
            kd::load_f32x8(x_row + c, v);
            if (delta_row != nullptr && !write_back) {
                float d[8];
                kd::load_f32x8(delta_row + c, d);
#pragma unroll
                for (int k = 0; k < 8; k++) {
                    v[k] += d[k];
                }
            }
            kd::load_bf16x8(w + c, wv);
#pragma unroll
            for (int k = 0; k < 8; k++) {
                v[k] = wv[k] * (v[k] * inv);
            }
            kd::store_bf16x8(out_row + c, v);
        }
    } else {
        for (int i = threadIdx.x; i < h; i += blockDim.x) {
            float v = x_row[i];
            if (delta_row != nullptr && !write_back) {
                v += delta_row[i];
            }
            out_row[i] = kd::float_to_bf16(kd::bf16_to_float(w[i]) * (v * inv));
        }
    }
}

}  // namespace

// Per layer: x += delta (delta may be null: the first layer's input norm), out = norm(x). One CTA per token.
extern "C" __global__ void kd_add_rms_norm(float* __restrict__ x, const float* __restrict__ delta,
                                           const __nv_bfloat16* __restrict__ weight, float eps,
                                           __nv_bfloat16* __restrict__ out, int h) {
    const size_t row = static_cast<size_t>(blockIdx.x) * h;
    norm_row(x + row, delta == nullptr ? nullptr : delta + row, true, weight, eps, out + row, h);
}

// Final norm of the rows that need logits: out[j] = norm(x[rows[j]] + delta[rows[j]]) (delta may be null: then
// of x alone). x is only read, so rows naming the same token twice are harmless. One CTA per selected row.
extern "C" __global__ void kd_rms_norm_rows(const float* __restrict__ x, const float* __restrict__ delta,
                                            const int* __restrict__ rows, const __nv_bfloat16* __restrict__ weight,
                                            float eps, __nv_bfloat16* __restrict__ out, int h) {
    const size_t row = static_cast<size_t>(rows[blockIdx.x]) * h;
    norm_row(const_cast<float*>(x) + row, delta == nullptr ? nullptr : delta + row, false, weight, eps,
             out + static_cast<size_t>(blockIdx.x) * h, h);
}
