// SiLU-and-multiply: out[t][j] = bf16(silu(gate[t][j]) * up[t][j]) with gate_up = [n][gate | up] in fp32, and
// silu_mul as activation.cuh defines it. The engine runs it fused into the gate_up GEMM (gemm.cu's
// *_silu_mul entry points); this kernel is their unfused reference, which GemmGpuTest matches bit for bit and
// GemmBench times against.
#include "activation.cuh"
#include "elementwise.cuh"

extern "C" __global__ void kd_silu_and_mul(const float* __restrict__ gate_up, __nv_bfloat16* __restrict__ out,
                                           int n, int inter) {
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if ((inter & 7) == 0 && kd::aligned16(gate_up) && kd::aligned16(out)) {
        // a chunk of 8 never straddles two rows, since inter is a multiple of 8
        const int row_chunks = inter / 8;
        const long long chunks = static_cast<long long>(n) * row_chunks;
        for (long long c = first; c < chunks; c += stride) {
            const long long t = c / row_chunks;
            const int j = static_cast<int>(c - t * row_chunks) * 8;
            const float* gate = gate_up + t * 2 * inter + j;
            float g[8];
            float u[8];
            kd::load_f32x8(gate, g);
            kd::load_f32x8(gate + inter, u);
#pragma unroll
            for (int k = 0; k < 8; k++) {
                g[k] = kd::silu_mul(g[k], u[k]);
            }
            kd::store_bf16x8(out + t * inter + j, g);
        }
    } else {
        const long long count = static_cast<long long>(n) * inter;
        for (long long e = first; e < count; e += stride) {
            const long long t = e / inter;
            const long long j = e - t * inter;
            const float* gate = gate_up + t * 2 * inter + j;
            out[e] = kd::float_to_bf16(kd::silu_mul(gate[0], gate[inter]));
        }
    }
}
