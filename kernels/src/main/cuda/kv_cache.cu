// The paged KV cache's writers: reshape_and_cache stores this step's K/V (fp32 in qkv) at their slots as bf16 (the
// engine does this in rotary.cu's kd_rotary_cache, fused with RoPE); copy_blocks copies whole blocks (copy-on-write)
// in every layer. Cache layout per layer, K and V separately:
// bf16 [numBlocks][numKvHeads][blockSize][headDim]; one allocation holds all layers as 2 * numLayers planes
// (layer l's K is plane 2l, its V plane 2l + 1), each numBlocks * blockElems elements.
#include "common.cuh"

// One block per token; each thread moves pairs of elements (head_dim is even): an 8-byte load, a 4-byte store.
extern "C" __global__ void kd_reshape_and_cache(const float* __restrict__ qkv, int qkvStride, int kOffset,
                                                int vOffset, const int* __restrict__ slotMapping,
                                                __nv_bfloat16* __restrict__ kCache, __nv_bfloat16* __restrict__ vCache,
                                                int numKvHeads, int blockSize, int headDim) {
    const int t = blockIdx.x;
    const int slot = slotMapping[t];
    if (slot < 0) {
        return;  // padding token: nothing to store
    }
    const long long block = slot / blockSize;
    const int offset = slot % blockSize;
    const int pairsPerHead = headDim >> 1;
    const float* row = qkv + (long long) t * qkvStride;
    for (int p = threadIdx.x; p < numKvHeads * pairsPerHead; p += blockDim.x) {
        const int h = p / pairsPerHead;
        const int d = (p - h * pairsPerHead) * 2;
        const long long dst = ((block * numKvHeads + h) * blockSize + offset) * headDim + d;
        const float2 k = *reinterpret_cast<const float2*>(row + kOffset + h * headDim + d);
        const float2 v = *reinterpret_cast<const float2*>(row + vOffset + h * headDim + d);
        *reinterpret_cast<__nv_bfloat162*>(kCache + dst) = __floats2bfloat162_rn(k.x, k.y);
        *reinterpret_cast<__nv_bfloat162*>(vCache + dst) = __floats2bfloat162_rn(v.x, v.y);
    }
}

// Grid (numPairs, 2 * numLayers): block (pair, plane) copies one block of one plane. Destinations must be
// distinct and must not be sources of other pairs (the pairs run in parallel, unlike the CPU twin's loop).
extern "C" __global__ void kd_copy_blocks(__nv_bfloat16* __restrict__ cache, const int* __restrict__ pairs,
                                          int numBlocks, int blockElems) {
    const int src = pairs[2 * blockIdx.x];
    const int dst = pairs[2 * blockIdx.x + 1];
    const long long plane = (long long) blockIdx.y * numBlocks * blockElems;
    const __nv_bfloat16* from = cache + plane + (long long) src * blockElems;
    __nv_bfloat16* to = cache + plane + (long long) dst * blockElems;
    if ((blockElems & 7) == 0) {
        // every block starts 16-byte aligned when it holds a multiple of 8 elements
        const uint4* from16 = reinterpret_cast<const uint4*>(from);
        uint4* to16 = reinterpret_cast<uint4*>(to);
        for (int i = threadIdx.x; i < (blockElems >> 3); i += blockDim.x) {
            to16[i] = from16[i];
        }
    } else {
        for (int i = threadIdx.x; i < blockElems; i += blockDim.x) {
            to[i] = from[i];
        }
    }
}
