// The MLP's activation, shared by kd_silu_and_mul (activation.cu) and the GEMM's fused epilogue (gemm.cu), so that
// the two give the same bits: silu(g) * u with silu(g) = g / (1 + exp(-g)) on the fast intrinsics (__expf, one
// MUFU.EX2; __fdividef, one MUFU.RCP). The fused epilogue runs at the end of each tile with the tensor cores idle:
// with the accurate expf and an IEEE division, the 1B gate_up at 8,192 rows ran 13% slower fused than unfused, with
// these 7% faster (benchmarks/RESULTS.md). The CPU twin (Activation.siluAndMultiply) computes the accurate form;
// after the bf16 rounding the two differ by at most one bf16 ulp (ElementwiseGpuTest), except below g = -87, where
// this gives 0 and the division a value under 1e-36 in size.
#pragma once

namespace kd {

__device__ __forceinline__ float silu_mul(float g, float u) { return __fdividef(g, 1.f + __expf(-g)) * u; }

}  // namespace kd
