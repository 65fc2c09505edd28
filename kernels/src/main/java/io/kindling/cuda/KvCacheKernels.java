package io.kindling.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * Writers of the paged KV cache ({@code kv_cache.cu}): this step's K/V into their slots, and copy-on-write of whole
 * blocks. Cache layout per layer, K and V separately: bf16 {@code [numBlocks][numKvHeads][blockSize][headDim]}.
 */
final class KvCacheKernels {

    private static final int THREADS = 256;

    private final CUfunction reshapeAndCache;
    private final CUfunction copyBlocks;

    KvCacheKernels(KernelModule module) {
        this.reshapeAndCache = module.function("kd_reshape_and_cache");
        this.copyBlocks = module.function("kd_copy_blocks");
    }

    /**
     * Stores K and V of {@code n} tokens (fp32, at {@code kOffset}/{@code vOffset} of each {@code qkv} row) as bf16
     * at their slots; a slot of -1 is skipped. The engine writes the cache in {@link Elementwise#rotaryCache}
     * instead, fused with RoPE; this is its reference in the tests and the benchmark.
     */
    void reshapeAndCache(CUstream s, CUdeviceptr qkv, int qkvStride, int kOffset, int vOffset,
                         CUdeviceptr slotMapping, int n, CUdeviceptr kCache, CUdeviceptr vCache, int numKvHeads,
                         int blockSize, int headDim) {
        requirePositive("numKvHeads", numKvHeads);
        requirePositive("blockSize", blockSize);
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("headDim must be positive and even, got " + headDim);
        }
        // the kernel moves element pairs with 8-byte loads: every row, K and V start must be 8-byte aligned
        if (qkvStride % 2 != 0 || kOffset % 2 != 0 || vOffset % 2 != 0) {
            throw new IllegalArgumentException("qkvStride, kOffset and vOffset must be even, got " + qkvStride + ", "
                    + kOffset + ", " + vOffset);
        }
        int kvSize = numKvHeads * headDim;
        if (kOffset + kvSize > qkvStride || vOffset + kvSize > qkvStride) {
            throw new IllegalArgumentException("K at " + kOffset + " and V at " + vOffset + " of " + kvSize
                    + " floats do not fit a qkv row of " + qkvStride);
        }
        if (n < 0) {
            throw new IllegalArgumentException("n must not be negative, got " + n);
        }
        if (n == 0) {
            return;
        }
        int threads = Math.min(THREADS, (kvSize / 2 + 31) / 32 * 32);
        Launch.kernel(reshapeAndCache, s, n, 1, 1, threads, 0, qkv, qkvStride, kOffset, vOffset, slotMapping, kCache,
                vCache, numKvHeads, blockSize, headDim);
    }

    /**
     * Copies block {@code pairs[i][0]} into block {@code pairs[i][1]} in both planes (K, V) of every layer of the
     * one allocation {@code cache} (layer l's K at element {@code 2l * numBlocks * blockElems}, its V right after).
     * The pairs run in parallel, so destinations must be distinct and none may be another pair's source.
     */
    void copyBlocks(CUstream s, CUdeviceptr cache, CUdeviceptr pairs, int numPairs, int numLayers, int numBlocks,
                    int blockElems) {
        requirePositive("numLayers", numLayers);
        requirePositive("numBlocks", numBlocks);
        requirePositive("blockElems", blockElems);
        if (numPairs < 0) {
            throw new IllegalArgumentException("numPairs must not be negative, got " + numPairs);
        }
        if (numPairs == 0) {
            return;
        }
        Launch.kernel(copyBlocks, s, numPairs, 2 * numLayers, 1, THREADS, 0, cache, pairs, numBlocks, blockElems);
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
