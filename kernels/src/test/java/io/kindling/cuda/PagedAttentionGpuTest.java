package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.BatchInputs;
import io.kindling.model.Architecture;
import io.kindling.model.DType;
import io.kindling.model.ModelConfig;
import io.kindling.model.Rope;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Paged attention on the GPU against the CPU twin ({@code io.kindling.backend.cpu.PagedAttention#reference}) run on the
 * same bf16-rounded q and K/V: random cache contents at random, non-contiguous block tables (some blocks shared as
 * a cached prefix), decode, prefill over a cached prefix, chunked prefill and mixed batches.
 */
class PagedAttentionGpuTest {

    private static final double TOLERANCE = 5e-3;
    private static final long SEED = System.nanoTime();

    private static KernelModule module;

    @BeforeAll
    static void load() {
        Assumptions.assumeTrue(CudaTestSupport.available(), () -> "no GPU: " + CudaTestSupport.whyUnavailable());
        module = KernelModule.load("paged_attention");
        System.out.println("PagedAttentionGpuTest seed " + SEED);
    }

    @Test
    void decodeGqa() {
        check("decode gqa 32/8 hd128 bs16", shape(32, 8, 128), 16, seqs(decode(1), decode(2), decode(17), decode(511),
                decode(512), decode(513), decode(1000), decode(2047), decode(3001), decode(4000)), 2);
        check("decode gqa 32/8 hd64 bs32", shape(32, 8, 64), 32, seqs(decode(4000), decode(77), decode(1024)), 1);
        check("decode one long sequence 32/8 hd128 bs16", shape(32, 8, 128), 16, seqs(decode(4000)), 0);
        check("decode at the partition cap 32/8 hd64 bs16", shape(32, 8, 64), 16,
                seqs(decode(17000), decode(16385), decode(300)), 3);
    }

    @Test
    void prefillOverCachedPrefix() {
        check("prefill 32/8 hd128 bs16", shape(32, 8, 128), 16,
                seqs(new int[] {300, 300}, new int[] {700, 200}, new int[] {1000, 130}), 12);
        check("prefill 32/8 hd64 bs32", shape(32, 8, 64), 32,
                seqs(new int[] {64, 64}, new int[] {65, 65}, new int[] {640, 129}), 2);
    }

    @Test
    void chunkedPrefill() {
        check("chunked prefill 32/8 hd64 bs32", shape(32, 8, 64), 32,
                seqs(new int[] {2000, 100}, new int[] {64, 63}, new int[] {65, 2}, new int[] {4000, 64}), 1);
    }

    @Test
    void mixedBatches() {
        check("mixed 32/8 hd128 bs16", shape(32, 8, 128), 16,
                seqs(decode(900), new int[] {420, 37}, decode(3), new int[] {150, 150}, decode(2600),
                        new int[] {1300, 2}), 8);
        check("mixed gqa 28/4 hd128 bs16", shape(28, 4, 128), 16,
                seqs(decode(700), new int[] {300, 90}, decode(1500)), 4);
        check("mixed mqa 16/1 hd64 bs16", shape(16, 1, 64), 16,
                seqs(decode(1200), new int[] {260, 70}, decode(33)), 4);
        check("mixed mha 8/8 hd64 bs32", shape(8, 8, 64), 32,
                seqs(decode(600), new int[] {200, 200}, decode(5)), 2);
    }

    @Test
    void smallAndOddHeadDims() {
        check("mixed mha 4/4 hd8 bs16", shape(4, 4, 8), 16, seqs(decode(40), new int[] {37, 12}, decode(1)), 1);
        check("mixed gqa 4/2 hd4 bs16", shape(4, 2, 4), 16, seqs(decode(70), new int[] {90, 90}, decode(600)), 2);
        check("mixed gqa 8/2 hd96 bs16", shape(8, 2, 96), 16, seqs(decode(700), new int[] {100, 70}), 2);
        check("mixed gqa 4/2 hd256 bs32", shape(4, 2, 256), 32, seqs(decode(900), new int[] {200, 150}), 2);
    }

    @Test
    void slidingWindow() {
        ModelConfig windowed = config(8, 2, 64, OptionalInt.of(100));
        check("sliding window 100, 8/2 hd64 bs16", windowed, 16,
                seqs(decode(500), decode(60), new int[] {400, 150}, new int[] {90, 90}), 2);
    }

    private static void check(String name, ModelConfig config, int blockSize, int[][] seqs, int sharedBlocks) {
        SplittableRandom random = new SplittableRandom(SEED ^ name.hashCode());
        Batch b = Batch.build(seqs, blockSize, sharedBlocks, random);
        int qkvStride = config.qSize() + 2 * config.kvSize();
        int n = b.inputs.numTokens();
        float[] qkv = CudaTestSupport.randomFloats(n * qkvStride, random.nextLong(), 2f);
        int kvSize = config.kvSize();
        int slots = b.numBlocks * blockSize;
        // one random bf16 value per cache element
        float[] keys = Bf16.round(CudaTestSupport.randomFloats(slots * kvSize, random.nextLong(), 1f));
        float[] values = Bf16.round(CudaTestSupport.randomFloats(slots * kvSize, random.nextLong(), 1f));
        short[] gpuCache = KvCacheLayout.paged(keys, values, blockSize, config.numKeyValueHeads(), config.headDim());
        float[] want = io.kindling.backend.cpu.PagedAttention.reference(config, b.inputs, Bf16.round(qkv), qkvStride, keys,
                values, blockSize);

        CudaContext context = CudaTestSupport.context();
        short[] got = new short[n * config.qSize()];
        AttentionPlan plan;
        try (DeviceBuffer dQkv = DeviceBuffer.allocate((long) qkv.length * Float.BYTES).copyFrom(qkv);
             DeviceBuffer dCache = DeviceBuffer.allocate((long) gpuCache.length * Short.BYTES).copyFrom(gpuCache);
             DeviceBuffer dOut = DeviceBuffer.allocate((long) got.length * Short.BYTES).poison();
             PagedAttention attention = new PagedAttention(module, config, blockSize, seqs.length + 3, n + 5,
                     b.maxBlocksPerSeq + 2)) {
            attention.prepare(context.stream(), b.inputs);
            attention.run(context.stream(), dQkv.ptr(), qkvStride, dCache.ptr(),
                    dCache.at((long) slots * kvSize * Short.BYTES), dOut.ptr());
            context.synchronize();
            dOut.copyTo(got);
            plan = attention.plan();
        }
        float[] out = new float[got.length];
        int unwritten = 0;
        for (int i = 0; i < got.length; i++) {
            out[i] = Bf16.toFloat(got[i]);
            if (!Float.isFinite(out[i])) {
                unwritten++;
            }
        }
        double err = CudaTestSupport.relError(out, want);
        System.out.printf("paged attention %-40s tokens %5d seqs %2d decode %2d (work items %3d, split up to %2d) "
                        + "tiles %3d  rel err %.2e  non-finite %d%n", name, n, seqs.length, plan.numDecode(),
                plan.numWork(), plan.maxSplit(), plan.numTiles(), err, unwritten);
        assertEquals(0, unwritten, name + ": outputs left unwritten or NaN");
        assertTrue(err < TOLERANCE, name + ": relative error " + err);
    }

    private static ModelConfig shape(int numHeads, int numKvHeads, int headDim) {
        return config(numHeads, numKvHeads, headDim, OptionalInt.empty());
    }

    private static ModelConfig config(int numHeads, int numKvHeads, int headDim, OptionalInt window) {
        return new ModelConfig(Architecture.LLAMA, 256, numHeads * headDim, 64, 1, numHeads, numKvHeads, headDim,
                1e-5, Rope.standard(10000.0), 1 << 16, false, false, false, window, DType.BF16, OptionalInt.empty(),
                List.of(1));
    }

    private static int[] decode(int ctx) {
        return new int[] {ctx, 1};
    }

    private static int[][] seqs(int[]... contextAndQueryLengths) {
        return contextAndQueryLengths;
    }

    /** A valid step over a shuffled pool of blocks; the first {@code sharedBlocks} blocks are one physical prefix. */
    private record Batch(BatchInputs inputs, int numBlocks, int maxBlocksPerSeq) {

        static Batch build(int[][] seqs, int blockSize, int sharedBlocks, SplittableRandom random) {
            int needed = sharedBlocks;
            int maxBlocks = 1;
            for (int[] s : seqs) {
                int blocks = (s[0] + blockSize - 1) / blockSize;
                needed += blocks;
                maxBlocks = Math.max(maxBlocks, blocks);
            }
            int numBlocks = needed + 5;  // spare blocks nobody reads
            int[] pool = new int[numBlocks];
            for (int i = 0; i < numBlocks; i++) {
                pool[i] = i;
            }
            for (int i = numBlocks - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = pool[i];
                pool[i] = pool[j];
                pool[j] = t;
            }
            int next = sharedBlocks;
            int numSeqs = seqs.length;
            int[][] tables = new int[numSeqs][];
            int[] seqLens = new int[numSeqs];
            int[] queryStartLoc = new int[numSeqs + 1];
            List<Integer> positions = new ArrayList<>();
            List<Integer> slots = new ArrayList<>();
            for (int s = 0; s < numSeqs; s++) {
                int ctx = seqs[s][0];
                int qLen = seqs[s][1];
                int blocks = (ctx + blockSize - 1) / blockSize;
                // the shared prefix only where it lies wholly in the already computed part of the context
                boolean shares = sharedBlocks > 0 && (ctx - qLen) >= sharedBlocks * blockSize;
                tables[s] = new int[blocks];
                for (int i = 0; i < blocks; i++) {
                    tables[s][i] = shares && i < sharedBlocks ? pool[i] : pool[next++];
                }
                seqLens[s] = ctx;
                queryStartLoc[s + 1] = queryStartLoc[s] + qLen;
                for (int pos = ctx - qLen; pos < ctx; pos++) {
                    positions.add(pos);
                    slots.add(tables[s][pos / blockSize] * blockSize + pos % blockSize);
                }
            }
            int n = positions.size();
            int[] logits = new int[numSeqs];
            for (int s = 0; s < numSeqs; s++) {
                logits[s] = queryStartLoc[s + 1] - 1;
            }
            BatchInputs inputs = new BatchInputs(new int[n], toArray(positions), toArray(slots), queryStartLoc,
                    seqLens, tables, logits);
            return new Batch(inputs, numBlocks, maxBlocks);
        }

        private static int[] toArray(List<Integer> list) {
            return list.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
