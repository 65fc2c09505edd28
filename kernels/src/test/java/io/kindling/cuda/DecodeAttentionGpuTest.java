package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.BatchInputs;
import io.kindling.model.Architecture;
import io.kindling.model.DType;
import io.kindling.model.ModelConfig;
import io.kindling.model.Rope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Paged decode attention's batch invariance and graph replay on the GPU: under every decode tuning (each kernel
 * variant, split policies and block orders), a sequence's output matches the CPU twin and has the same bits
 * alone, among sequences of other lengths, beside prefills and in a padded graph-shaped step; and a decode launch
 * captured in a CUDA graph for one step computes a later step of the same launch shape (against the CPU twin),
 * bit-identical to running that step eagerly, replay after replay.
 */
class DecodeAttentionGpuTest {

    private static final double TOLERANCE = 5e-3;
    private static final long SEED = System.nanoTime();
    private static final int BLOCK_SIZE = 16;
    /** Block tables up to 20,480 keys: the 17,000-key sequence, and the padded graph-shaped step's stride. */
    private static final int MAX_BLOCKS_PER_SEQ = 1280;

    private static KernelModule module;

    @BeforeAll
    static void load() {
        Assumptions.assumeTrue(CudaTestSupport.available(), () -> "no GPU: " + CudaTestSupport.whyUnavailable());
        module = KernelModule.load("paged_attention");
        System.out.println("DecodeAttentionGpuTest seed " + SEED);
    }

    /**
     * Every (warps, stages) kernel of the tuned shapes on CUDA cores and on tensor cores, with split policies
     * (partition keys, most partitions) and block orders spread over them, then the default.
     */
    static List<DecodeTuning> tunings() {
        List<DecodeTuning> tunings = new ArrayList<>();
        int[] partitionTokens = {256, 512, 1024};
        int i = 0;
        for (boolean tensorCores : new boolean[] {false, true}) {
            for (int warps : tensorCores ? new int[] {2, 4} : new int[] {2, 4, 8}) {
                for (int stages = 2; stages <= (tensorCores ? 3 : 4); stages++, i++) {
                    tunings.add(new DecodeTuning(warps, stages, partitionTokens[i % 3], i % 2 == 0 ? 128 : 32,
                            (i / 2) % 2 == 0, tensorCores));
                }
            }
        }
        tunings.add(DecodeTuning.DEFAULT);
        return tunings;
    }

    @Test
    void aSequenceGetsTheSameBitsAloneAndInAnyBatch() {
        // GQA groups of 4 (the tuned kernels), 7 and 16 (two chunks of q heads on tensor cores)
        List<ModelConfig> shapes = List.of(shape(32, 8, 64), shape(32, 8, 128), shape(28, 4, 128), shape(32, 2, 64));
        for (ModelConfig config : shapes) {
            SplittableRandom random = new SplittableRandom(SEED ^ config.headDim() ^ config.numAttentionHeads());
            try (Cache cache = new Cache(config, 1900, random)) {
                Seq x = cache.decode(3001);  // split in 3 to 12 partitions by the tunings
                // 17,000 keys: up to 67 partitions, past the 64 of the kernels' first combination bound
                List<Seq> mixed = List.of(cache.decode(100), x, cache.decode(17000), cache.decode(1));
                List<List<Seq>> steps = List.of(
                        List.of(x),
                        mixed,
                        List.of(cache.decode(9000), cache.prefill(300, 40), x),
                        List.of(x, cache.padding(), cache.padding()));
                int[] minStrides = {1, 1, 1, MAX_BLOCKS_PER_SEQ};
                float[] wantAlone = cache.reference(steps.get(0));
                float[] wantMixed = cache.reference(mixed);
                for (DecodeTuning tuning : tunings()) {
                    String what = config.headDim() + "/" + config.numAttentionHeads() + " " + tuning;
                    short[] alone = null;
                    for (int i = 0; i < steps.size(); i++) {
                        Step step = Step.of(steps.get(i), config);
                        short[] got = cache.runEagerly(step, minStrides[i], tuning);
                        short[] row = step.rowsOf(got, steps.get(i).indexOf(x), config.qSize());
                        if (i == 0) {
                            alone = row;
                            double err = relError(got, wantAlone);
                            assertTrue(err < TOLERANCE, what + ": alone against the CPU twin, rel err " + err);
                        } else {
                            assertArrayEquals(alone, row, what + ": the sequence's output changed in step " + i);
                        }
                        if (steps.get(i) == mixed) {
                            double err = relError(got, wantMixed);
                            assertTrue(err < TOLERANCE, what + ": mixed lengths against the CPU twin, rel err " + err);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aCapturedDecodeGraphReplaysLaterStepsOfItsShape() {
        for (DecodeTuning tuning : List.of(DecodeTuning.DEFAULT, new DecodeTuning(4, 2, 1024, 32, false, false),
                new DecodeTuning(2, 2, 512, 64, true, true))) {
            replaysLaterSteps(tuning);
        }
    }

    private static void replaysLaterSteps(DecodeTuning tuning) {
        ModelConfig config = shape(32, 8, 64);
        SplittableRandom random = new SplittableRandom(SEED);
        int stride = 1024;
        try (Cache cache = new Cache(config, 4000, random)) {
            List<Seq> first = List.of(cache.decode(3001), cache.decode(100), cache.decode(9000), cache.padding(),
                    cache.padding());
            List<Seq> later = List.of(cache.decode(50), cache.decode(7000), cache.decode(16000), cache.decode(513),
                    cache.padding());
            Step a = Step.of(first, config);
            Step b = Step.of(later, config);
            CUstream s = CudaTestSupport.context().stream();
            try (PagedAttention attention = cache.attention(5, stride, tuning);
                 DeviceBuffer qkv = DeviceBuffer.allocate((long) a.qkv.length * Float.BYTES).copyFrom(a.qkv);
                 DeviceBuffer out = DeviceBuffer.allocate((long) 5 * config.qSize() * Short.BYTES).poison()) {
                attention.prepare(s, a.inputs, stride);
                AttentionPlan.LaunchShape shape = attention.plan().launchShape();
                CudaTestSupport.context().synchronize();
                CUgraph graph = new CUgraph();
                cuStreamBeginCapture(s, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
                try {
                    cache.run(attention, qkv, out);
                } finally {
                    cuStreamEndCapture(s, graph);
                }
                CUgraphExec exec = new CUgraphExec();
                cuGraphInstantiate(exec, graph, 0);
                try {
                    attention.prepare(s, b.inputs, stride);
                    assertEquals(shape, attention.plan().launchShape());
                    qkv.copyFrom(b.qkv);
                    short[] replayed = new short[5 * config.qSize()];
                    for (int replay = 0; replay < 3; replay++) {
                        out.poison();
                        cuGraphLaunch(exec, s);
                        CudaTestSupport.context().synchronize();
                        short[] got = out.copyTo(new short[replayed.length]);
                        if (replay == 0) {
                            double err = relError(got, cache.reference(later.subList(0, 4)));
                            System.out.printf("decode graph replay (%s): rel err %.2e against the CPU twin%n", tuning,
                                    err);
                            assertTrue(err < TOLERANCE, "replayed graph: relative error " + err);
                            replayed = got;
                        } else {
                            assertArrayEquals(replayed, got, "replay " + replay + " differs from the first");
                        }
                    }
                    out.poison();
                    cache.run(attention, qkv, out);
                    CudaTestSupport.context().synchronize();
                    assertArrayEquals(replayed, out.copyTo(new short[replayed.length]), "eager run of the step");
                } finally {
                    cuGraphExecDestroy(exec);
                    cuGraphDestroy(graph);
                }
            }
        }
    }

    private static ModelConfig shape(int numHeads, int numKvHeads, int headDim) {
        return new ModelConfig(Architecture.LLAMA, 256, numHeads * headDim, 64, 1, numHeads, numKvHeads, headDim,
                1e-5, Rope.standard(10000.0), 1 << 16, false, false, false, OptionalInt.empty(), DType.BF16,
                OptionalInt.empty(), List.of(1));
    }

    /** A sequence of a step: context, query rows (fp32, qkv rows' width) and block table; slot -1: padding. */
    private record Seq(int ctx, int qLen, int[] table, float[] rows, boolean padding) {
    }

    /** The batch and qkv rows of a list of sequences, in order. */
    private record Step(BatchInputs inputs, float[] qkv) {

        static Step of(List<Seq> seqs, ModelConfig config) {
            int qkvStride = qkvStride(config);
            int n = seqs.stream().mapToInt(Seq::qLen).sum();
            int[] positions = new int[n];
            int[] slots = new int[n];
            int[] qsl = new int[seqs.size() + 1];
            int[] seqLens = new int[seqs.size()];
            int[][] tables = new int[seqs.size()][];
            float[] qkv = new float[n * qkvStride];
            for (int i = 0; i < seqs.size(); i++) {
                Seq seq = seqs.get(i);
                qsl[i + 1] = qsl[i] + seq.qLen();
                seqLens[i] = seq.ctx();
                tables[i] = seq.table();
                System.arraycopy(seq.rows(), 0, qkv, qsl[i] * qkvStride, seq.rows().length);
                for (int j = 0; j < seq.qLen(); j++) {
                    int pos = seq.ctx() - seq.qLen() + j;
                    positions[qsl[i] + j] = pos;
                    slots[qsl[i] + j] = seq.padding() ? -1
                            : seq.table()[pos / BLOCK_SIZE] * BLOCK_SIZE + pos % BLOCK_SIZE;
                }
            }
            int[] logits = new int[seqs.size()];
            Arrays.setAll(logits, i -> qsl[i + 1] - 1);
            BatchInputs inputs = new BatchInputs(new int[n], positions, slots, qsl, seqLens, tables, logits);
            return new Step(inputs, qkv);
        }

        short[] rowsOf(short[] out, int seq, int qSize) {
            int from = inputs.queryStartLoc()[seq] * qSize;
            return Arrays.copyOfRange(out, from, inputs.queryStartLoc()[seq + 1] * qSize);
        }
    }

    /** Relative error of the bf16 outputs {@code got} against {@code want}, over {@code want}'s rows only. */
    private static double relError(short[] got, float[] want) {
        float[] out = new float[want.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Bf16.toFloat(got[i]);
        }
        return CudaTestSupport.relError(out, want);
    }

    private static int qkvStride(ModelConfig config) {
        return config.qSize() + 2 * config.kvSize();
    }

    /** Random bf16 K/V in a shuffled pool of blocks, in the CPU twin's layout and on the device. */
    private static final class Cache implements AutoCloseable {
        private final ModelConfig config;
        private final SplittableRandom random;
        private final int numBlocks;
        private final float[] keys;
        private final float[] values;
        private final DeviceBuffer device;
        private final List<Integer> free = new ArrayList<>();

        Cache(ModelConfig config, int numBlocks, SplittableRandom random) {
            this.config = config;
            this.random = random;
            this.numBlocks = numBlocks;
            int kvSize = config.kvSize();
            int slots = numBlocks * BLOCK_SIZE;
            keys = Bf16.round(CudaTestSupport.randomFloats(slots * kvSize, random.nextLong(), 1f));
            values = Bf16.round(CudaTestSupport.randomFloats(slots * kvSize, random.nextLong(), 1f));
            short[] gpu = KvCacheLayout.paged(keys, values, BLOCK_SIZE, config.numKeyValueHeads(), config.headDim());
            device = DeviceBuffer.allocate((long) gpu.length * Short.BYTES).copyFrom(gpu);
            for (int i = 1; i < numBlocks; i++) {  // block 0 stays the padding sequences'
                free.add(i);
            }
            for (int i = free.size() - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                free.set(j, free.set(i, free.get(j)));
            }
        }

        Seq decode(int ctx) {
            return prefill(ctx, 1);
        }

        Seq prefill(int ctx, int qLen) {
            int[] table = new int[(ctx + BLOCK_SIZE - 1) / BLOCK_SIZE];
            for (int i = 0; i < table.length; i++) {
                table[i] = free.remove(free.size() - 1);
            }
            return new Seq(ctx, qLen, table, rows(qLen), false);
        }

        /** As the graph runner pads a decode step: context 1 in block 0. */
        Seq padding() {
            return new Seq(1, 1, new int[] {0}, rows(1), true);
        }

        private float[] rows(int qLen) {
            return CudaTestSupport.randomFloats(qLen * qkvStride(config), random.nextLong(), 2f);
        }

        PagedAttention attention(int maxNumSeqs, int maxBlocksPerSeq, DecodeTuning tuning) {
            return new PagedAttention(module, config, BLOCK_SIZE, maxNumSeqs, 256, maxBlocksPerSeq, tuning);
        }

        void run(PagedAttention attention, DeviceBuffer qkv, DeviceBuffer out) {
            long plane = (long) numBlocks * BLOCK_SIZE * config.kvSize() * Short.BYTES;
            attention.run(CudaTestSupport.context().stream(), qkv.ptr(), qkvStride(config), device.ptr(),
                    device.at(plane), out.ptr());
        }

        /** Output rows of {@code step} planned with {@code minStride} and run once, outside any graph. */
        short[] runEagerly(Step step, int minStride, DecodeTuning tuning) {
            int n = step.inputs.numTokens();
            CudaContext context = CudaTestSupport.context();
            try (PagedAttention attention = attention(step.inputs.numSeqs(), MAX_BLOCKS_PER_SEQ, tuning);
                 DeviceBuffer qkv = DeviceBuffer.allocate((long) step.qkv.length * Float.BYTES).copyFrom(step.qkv);
                 DeviceBuffer out = DeviceBuffer.allocate((long) n * config.qSize() * Short.BYTES).poison()) {
                attention.prepare(context.stream(), step.inputs, minStride);
                run(attention, qkv, out);
                context.synchronize();
                return out.copyTo(new short[n * config.qSize()]);
            }
        }

        /** The CPU twin's output rows for {@code real}, the first sequences of a step. */
        float[] reference(List<Seq> real) {
            Step reference = Step.of(real, config);
            return io.kindling.backend.cpu.PagedAttention.reference(config, reference.inputs,
                    Bf16.round(reference.qkv), qkvStride(config), keys, values, BLOCK_SIZE);
        }

        @Override
        public void close() {
            device.close();
        }
    }
}
