package io.kindling.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.BatchInputs;
import io.kindling.backend.WeightShapeException;
import io.kindling.model.ModelConfig;
import io.kindling.model.ModelLoadException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CpuBackendTest {

    private static final int[] PROMPT = {5, 17, 99, 3, 42, 42, 8, 100, 0, 61, 23, 77, 14};

    static Stream<Arguments> variants() {
        return Stream.of(
                Arguments.of("llama GQA, untied", TinyModels.llamaGqa()),
                Arguments.of("llama MHA", TinyModels.llamaMha()),
                Arguments.of("llama MQA, tied", TinyModels.llamaMqa()),
                Arguments.of("llama3 rope scaling", TinyModels.llama3Scaled()),
                Arguments.of("qwen2 qkv bias", TinyModels.qwen2Bias()),
                Arguments.of("qwen3 qk norm, head_dim 24", TinyModels.qwen3QkNorm()),
                Arguments.of("mistral sliding window 5", TinyModels.mistralWindow()));
    }

    static Stream<Arguments> variantsAndKernels() {
        return variants().flatMap(v -> Stream.of(new VectorPanelKernel(), new ScalarPanelKernel())
                .map(kernel -> Arguments.of(v.get()[0], v.get()[1], kernel)));
    }

    @ParameterizedTest(name = "{0}, {2}")
    @MethodSource("variantsAndKernels")
    void matchesNaiveReferenceAtEveryPosition(String name, ModelConfig config, PanelKernel kernel) {
        MapWeights weights = TinyModels.weights(config, 7);
        double[][] expected = new ReferenceForward(config, weights).logits(PROMPT);
        float[][] actual;
        try (CpuBackend backend = new CpuBackend(config, weights, 2, 1, kernel)) {
            actual = PagedDriver.runAlone(backend, 4, 11L, PROMPT, 6, 4, 3);
        }
        for (int pos = 0; pos < PROMPT.length; pos++) {
            double scale = 0;
            for (double v : expected[pos]) {
                scale = Math.max(scale, Math.abs(v));
            }
            assertTrue(scale > 1, "logits should be spread out, max |logit| " + scale);
            for (int v = 0; v < config.vocabSize(); v++) {
                double diff = Math.abs(actual[pos][v] - expected[pos][v]);
                assertTrue(diff <= 1e-4 * scale, name + " position " + pos + " token " + v + ": " + actual[pos][v]
                        + " vs reference " + expected[pos][v]);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void chunkingThePrefillDoesNotChangeOneBit(String name, ModelConfig config) {
        MapWeights weights = TinyModels.weights(config, 3);
        float[][] oneChunk = runAlone(config, weights, 2, 4, null, PROMPT.length);
        float[][] threeChunks = runAlone(config, weights, 2, 4, null, 5, 7, 1);
        float[][] tokenByToken = runAlone(config, weights, 2, 4, null, ones(PROMPT.length));
        assertArrayEquals(oneChunk, threeChunks);
        assertArrayEquals(oneChunk, tokenByToken);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void pagedLayoutDoesNotChangeOneBit(String name, ModelConfig config) {
        MapWeights weights = TinyModels.weights(config, 5);
        float[][] contiguous = runAlone(config, weights, 2, 16, null, 9, 4);
        float[][] shuffled = runAlone(config, weights, 2, 3, 99L, 9, 4);
        assertArrayEquals(contiguous, shuffled);
    }

    @Test
    void automaticKvBudgetIsAQuarterOfTheHeapLessTheWeightsCappedAtOneGib() {
        long mib = 1L << 20;
        // A Spark executor's default 1 GiB heap and the bundled model's 26 MiB of float32 weights.
        assertEquals(256 * mib - 26 * mib, CpuBackend.autoKvBudget(1024 * mib, 26 * mib));
        assertEquals(1024 * mib, CpuBackend.autoKvBudget(64 * 1024 * mib, 26 * mib));
        assertEquals(0, CpuBackend.autoKvBudget(1024 * mib, 900 * mib));
    }

    @Test
    void scalarKernelIsAlsoIndependentOfChunkingBatchingAndThreads() {
        ModelConfig config = TinyModels.llamaGqa();
        MapWeights weights = TinyModels.weights(config, 17);
        float[][] reference;
        try (CpuBackend backend = new CpuBackend(config, weights, 1, 1, new ScalarPanelKernel())) {
            reference = PagedDriver.runAlone(backend, 4, null, PROMPT, PROMPT.length);
        }
        try (CpuBackend backend = new CpuBackend(config, weights, 2, 1, new ScalarPanelKernel())) {
            PagedDriver driver = new PagedDriver(backend, 64, 4, 5L);
            PagedDriver.Seq a = new PagedDriver.Seq(PROMPT);
            PagedDriver.Seq b = new PagedDriver.Seq(PROMPT.clone());
            driver.step(List.of(b, a), 9, 5);
            driver.step(List.of(a, b), 8, 1);
            driver.step(List.of(b), 3);
            assertArrayEquals(reference, a.logits);
            assertArrayEquals(reference, b.logits);
        }
    }

    @Test
    void buildRunsTheVectorKernel() {
        // surefire starts the JVM with --add-modules jdk.incubator.vector, so the fast path is what gets tested
        assertTrue(PanelKernel.best() instanceof VectorPanelKernel, PanelKernel.best().description());
    }

    @Test
    void threadCountDoesNotChangeOneBit() {
        ModelConfig config = TinyModels.qwen3QkNorm();
        MapWeights weights = TinyModels.weights(config, 9);
        float[][] one = runAlone(config, weights, 1, 4, 1L, 8, 5);
        assertArrayEquals(one, runAlone(config, weights, 2, 4, 1L, 8, 5));
        assertArrayEquals(one, runAlone(config, weights, 3, 4, 1L, 8, 5));
    }

    /** Sequence A's logits alone equal its logits while it shares steps with prefills and decodes of others. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void batchCompanyDoesNotChangeOneBit(String name, ModelConfig config) {
        MapWeights weights = TinyModels.weights(config, 13);
        float[][] alone = runAlone(config, weights, 2, 4, null, 8, 1, 1, 1, 1, 1);

        int[] other = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        try (CpuBackend backend = new CpuBackend(config, weights, 2, 1)) {
            PagedDriver driver = new PagedDriver(backend, 64, 4, 21L);
            PagedDriver.Seq a = new PagedDriver.Seq(PROMPT);
            PagedDriver.Seq b = new PagedDriver.Seq(other);
            PagedDriver.Seq c = new PagedDriver.Seq(other.clone());
            driver.step(List.of(b), 6);
            driver.step(List.of(b, a, c), 1, 8, 3);
            while (a.computed < PROMPT.length) {
                driver.step(List.of(c, a, b), 1, 1, 1);
            }
            assertArrayEquals(alone, a.logits);
            assertArrayEquals(b.logits[7], c.logits[7], "two copies of one sequence, scheduled differently");
        }
    }

    @Test
    void returnsLogitsOnlyForTheRequestedRowsInTheirOrder() {
        ModelConfig config = TinyModels.llamaGqa();
        MapWeights weights = TinyModels.weights(config, 1);
        float[][] all = runAlone(config, weights, 1, 4, null, 5);
        try (CpuBackend backend = new CpuBackend(config, weights, 1, 1)) {
            backend.allocateKvCache(4, 4);
            float[][] picked = PagedDriver.rows(backend.forward(new BatchInputs(new int[] {5, 17, 99, 3, 42},
                    new int[] {0, 1, 2, 3, 4}, new int[] {8, 9, 10, 11, 4}, new int[] {0, 5}, new int[] {5},
                    new int[][] {{2, 1}}, new int[] {4, 1})));
            assertEquals(2, picked.length);
            assertArrayEquals(all[4], picked[0]);
            assertArrayEquals(all[1], picked[1]);
        }
    }

    @Test
    void readsOnlyTheStepsEntriesOfArraysThatMayBeLonger() {
        ModelConfig config = TinyModels.llamaGqa();
        MapWeights weights = TinyModels.weights(config, 1);
        float[][] all = runAlone(config, weights, 1, 4, null, 5);
        BatchInputs batch = new BatchInputs();
        batch.reset(3, 9, 6); // a larger step first: its entries, all invalid, stay past the next one's counts
        for (int[] array : List.of(batch.inputIds(), batch.positions(), batch.slotMapping(), batch.queryStartLoc(),
                batch.seqLens(), batch.logitsIndices())) {
            Arrays.fill(array, -1);
        }
        Arrays.fill(batch.blockTables(), new int[] {-1});
        batch.reset(1, 5, 2);
        System.arraycopy(new int[] {5, 17, 99, 3, 42}, 0, batch.inputIds(), 0, 5);
        System.arraycopy(new int[] {0, 1, 2, 3, 4}, 0, batch.positions(), 0, 5);
        System.arraycopy(new int[] {8, 9, 10, 11, 4}, 0, batch.slotMapping(), 0, 5);
        System.arraycopy(new int[] {0, 5}, 0, batch.queryStartLoc(), 0, 2);
        batch.seqLens()[0] = 5;
        batch.blockTables()[0] = new int[] {2, 1};
        System.arraycopy(new int[] {4, 1}, 0, batch.logitsIndices(), 0, 2);
        try (CpuBackend backend = new CpuBackend(config, weights, 1, 1)) {
            backend.allocateKvCache(4, 4);
            float[][] picked = PagedDriver.rows(backend.forward(batch));
            assertEquals(2, picked.length);
            assertArrayEquals(all[4], picked[0]);
            assertArrayEquals(all[1], picked[1]);
        }
    }

    @Test
    void kvCacheBlockSizeCountsKAndVOfAllLayers() {
        try (CpuBackend backend = new CpuBackend(TinyModels.qwen3QkNorm(), TinyModels.weights(TinyModels.qwen3QkNorm(), 1), 1, 1)) {
            // 2 (K, V) x 2 layers x 16 slots x 2 kv heads x 24 head_dim x 4 bytes
            assertEquals(12288, backend.kvCacheBytesPerBlock(16));
            assertTrue(backend.device().startsWith("cpu (1 thread, "), backend.device());
        }
    }

    @Test
    void rejectsATensorWhoseShapeContradictsTheConfig() {
        ModelConfig config = TinyModels.llamaGqa();
        MapWeights weights = TinyModels.weights(config, 1);
        weights.put("model.layers.1.self_attn.k_proj.weight", new float[64 * 64], 64, 64);
        WeightShapeException e = assertThrows(WeightShapeException.class, () -> new CpuBackend(config, weights, 1, 1));
        assertEquals("model.layers.1.self_attn.k_proj.weight", e.tensor());
        assertTrue(e.getMessage().contains("[32, 64]"), e.getMessage());
    }

    @Test
    void untiedModelWithoutLmHeadFailsNamingIt() {
        ModelConfig config = TinyModels.llamaGqa();
        MapWeights weights = TinyModels.weights(config, 1);
        weights.remove("lm_head.weight");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> new CpuBackend(config, weights, 1, 1));
        assertTrue(e.getMessage().contains("lm_head.weight"), e.getMessage());
    }

    @Test
    void rejectsABatchWhoseSlotContradictsItsBlockTable() {
        ModelConfig config = TinyModels.llamaGqa();
        try (CpuBackend backend = new CpuBackend(config, TinyModels.weights(config, 1), 1, 1)) {
            assertThrows(IllegalStateException.class, () -> backend.forward(single(5, 0, 0, 0)));
            backend.allocateKvCache(4, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.forward(single(5, 0, 13, 2)));
            assertEquals("invalid batch: sequence 0 token 0: slot 13, block table gives 8", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> backend.forward(single(101, 0, 8, 2)));
            assertEquals("invalid batch: sequence 0 token 0: id 101 outside vocabulary of 101", e.getMessage());
        }
    }

    private static BatchInputs single(int id, int pos, int slot, int block) {
        return new BatchInputs(new int[] {id}, new int[] {pos}, new int[] {slot}, new int[] {0, 1},
                new int[] {pos + 1}, new int[][] {{block}}, new int[] {0});
    }

    private static float[][] runAlone(ModelConfig config, MapWeights weights, int threads, int blockSize,
                                      Long shuffleSeed, int... chunks) {
        try (CpuBackend backend = new CpuBackend(config, weights, threads, 1)) {
            return PagedDriver.runAlone(backend, blockSize, shuffleSeed, PROMPT, chunks);
        }
    }

    private static int[] ones(int n) {
        int[] ones = new int[n];
        java.util.Arrays.fill(ones, 1);
        return ones;
    }
}
