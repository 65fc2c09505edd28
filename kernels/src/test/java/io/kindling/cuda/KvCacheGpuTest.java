package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The KV cache writers against the CPU cache's semantics ({@code PagedKvCache.write} and {@code copyBlocks}) in the
 * GPU layout: bit-exact, and nothing outside the written slots or destination blocks changes.
 */
class KvCacheGpuTest {

    private static final long SEED = System.nanoTime();

    private static KvCacheKernels kernels;

    @BeforeAll
    static void load() {
        Assumptions.assumeTrue(CudaTestSupport.available(), () -> "no GPU: " + CudaTestSupport.whyUnavailable());
        kernels = new KvCacheKernels(KernelModule.load("kv_cache"));
        System.out.println("KvCacheGpuTest seed " + SEED);
    }

    @Test
    void reshapeAndCacheStoresEachTokenAtItsSlot() {
        reshapeAndCache(8, 128, 16, 37, 4);
        reshapeAndCache(8, 64, 32, 300, 8);
        reshapeAndCache(2, 4, 16, 9, 2);
        reshapeAndCache(1, 6, 16, 20, 3);
    }

    @Test
    void copyBlocksCopiesEveryLayerAndPlane() {
        copyBlocks(3, 20, 8 * 16 * 64, 5);
        copyBlocks(2, 12, 2 * 16 * 6, 3);  // 192 elements: the 16-byte path; 2 * 16 * 6 is a multiple of 8
        copyBlocks(1, 9, 1 * 3 * 2, 2);    // 6 elements: the element-wise path
    }

    /** {@code n} tokens at distinct random slots, {@code skipped} of them padding (slot -1). */
    private static void reshapeAndCache(int numKvHeads, int headDim, int blockSize, int n, int skipped) {
        SplittableRandom random = new SplittableRandom(SEED + 31L * n + headDim);
        int numBlocks = (n + blockSize - 1) / blockSize + 3;
        int kvSize = numKvHeads * headDim;
        int qSize = 2 * kvSize;
        int stride = qSize + 2 * kvSize + 2;  // a row longer than q, k, v: the stride is honoured
        float[] qkv = CudaTestSupport.randomFloats(n * stride, random.nextLong(), 3f);
        int[] slots = random.ints(0, numBlocks * blockSize).distinct().limit(n).toArray();
        for (int i = 0; i < skipped; i++) {
            slots[i * (n / skipped)] = -1;
        }
        int cacheElems = numBlocks * kvSize * blockSize;
        short[] k = Bf16.fromFloats(CudaTestSupport.randomFloats(cacheElems, random.nextLong(), 1f));
        short[] v = Bf16.fromFloats(CudaTestSupport.randomFloats(cacheElems, random.nextLong(), 1f));
        short[] wantK = k.clone();
        short[] wantV = v.clone();
        for (int t = 0; t < n; t++) {
            if (slots[t] < 0) {
                continue;
            }
            int block = slots[t] / blockSize;
            int offset = slots[t] % blockSize;
            for (int h = 0; h < numKvHeads; h++) {
                for (int d = 0; d < headDim; d++) {
                    int at = ((block * numKvHeads + h) * blockSize + offset) * headDim + d;
                    wantK[at] = Bf16.fromFloat(qkv[t * stride + qSize + h * headDim + d]);
                    wantV[at] = Bf16.fromFloat(qkv[t * stride + qSize + kvSize + h * headDim + d]);
                }
            }
        }
        short[] gotK = new short[cacheElems];
        short[] gotV = new short[cacheElems];
        CudaContext context = CudaTestSupport.context();
        try (DeviceBuffer dQkv = DeviceBuffer.allocate((long) qkv.length * Float.BYTES).copyFrom(qkv);
             DeviceBuffer dSlots = DeviceBuffer.allocate((long) n * Integer.BYTES).copyFrom(slots);
             DeviceBuffer dK = DeviceBuffer.allocate((long) cacheElems * Short.BYTES).copyFrom(k);
             DeviceBuffer dV = DeviceBuffer.allocate((long) cacheElems * Short.BYTES).copyFrom(v)) {
            kernels.reshapeAndCache(context.stream(), dQkv.ptr(), stride, qSize, qSize + kvSize, dSlots.ptr(), n,
                    dK.ptr(), dV.ptr(), numKvHeads, blockSize, headDim);
            context.synchronize();
            dK.copyTo(gotK);
            dV.copyTo(gotV);
        }
        System.out.printf("reshape_and_cache kv heads %d head dim %3d block %2d tokens %3d (%d padding): %s%n",
                numKvHeads, headDim, blockSize, n, skipped, Arrays.equals(gotK, wantK)
                        && Arrays.equals(gotV, wantV) ? "exact" : "MISMATCH");
        assertArrayEquals(wantK, gotK, "K cache");
        assertArrayEquals(wantV, gotV, "V cache");
    }

    private static void copyBlocks(int numLayers, int numBlocks, int blockElems, int numPairs) {
        SplittableRandom random = new SplittableRandom(SEED + 17L * blockElems + numLayers);
        int[] ids = random.ints(0, numBlocks).distinct().limit(2L * numPairs).toArray();
        int[] pairs = new int[2 * numPairs];
        for (int i = 0; i < numPairs; i++) {
            pairs[2 * i] = ids[i];                 // sources and destinations disjoint, as copy-on-write gives them
            pairs[2 * i + 1] = ids[numPairs + i];
        }
        int planeElems = numBlocks * blockElems;
        short[] cache = Bf16.fromFloats(CudaTestSupport.randomFloats(2 * numLayers * planeElems, random.nextLong(), 1f));
        short[] want = cache.clone();
        for (int plane = 0; plane < 2 * numLayers; plane++) {
            for (int i = 0; i < numPairs; i++) {
                System.arraycopy(cache, plane * planeElems + pairs[2 * i] * blockElems, want,
                        plane * planeElems + pairs[2 * i + 1] * blockElems, blockElems);
            }
        }
        short[] got = new short[cache.length];
        CudaContext context = CudaTestSupport.context();
        try (DeviceBuffer dCache = DeviceBuffer.allocate((long) cache.length * Short.BYTES).copyFrom(cache);
             DeviceBuffer dPairs = DeviceBuffer.allocate((long) pairs.length * Integer.BYTES).copyFrom(pairs)) {
            kernels.copyBlocks(context.stream(), dCache.ptr(), dPairs.ptr(), numPairs, numLayers, numBlocks,
                    blockElems);
            context.synchronize();
            dCache.copyTo(got);
        }
        System.out.printf("copy_blocks layers %d blocks %2d block elems %5d pairs %d: %s%n", numLayers, numBlocks,
                blockElems, numPairs, Arrays.equals(got, want) ? "exact" : "MISMATCH");
        assertArrayEquals(want, got, "cache after copy_blocks");
    }
}
