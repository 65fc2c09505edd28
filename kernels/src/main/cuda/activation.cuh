// The MLP's activation, shared by kd_silu_and_mul (activation.cu) and the GEMM's fused epilogue (gemm.cu), so that
// the two give the same bits: silu(g) * u with silu(g) = g / (1 + exp(-g)), the accurate expf and an IEEE division
// (no fast math), as the CPU twin (Activation.siluAndMultiply) computes it.
#pragma once

namespace kd {

__device__ __forceinline__ float silu_mul(float g, float u) { return g / (1.f + expf(-g)) * u; }

}  // namespace kd
