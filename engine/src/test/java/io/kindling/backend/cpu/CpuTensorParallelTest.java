package io.kindling.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.model.ModelConfig;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU backend split over ranks against one rank on the tiny variants: vocabulary 101 leaves uneven LM head
 * slices (51 + 50 over two ranks, 26 + 26 + 26 + 23 over four), Qwen2's q/k/v biases and Qwen3's q/k norms are
 * sliced or shared by head, and Llama's optional o_proj, MLP and down_proj biases are each added once.
 */
class CpuTensorParallelTest {

    private static final int[] PROMPT = {5, 17, 99, 3, 42, 42, 8, 100, 0, 61, 23, 77, 14};

    static Stream<Arguments> splits() {
        return Stream.of(
                Arguments.of("llama GQA, untied", TinyModels.llamaGqa(), 2),
                Arguments.of("llama MHA", TinyModels.llamaMha(), 2),
                Arguments.of("llama MHA", TinyModels.llamaMha(), 4),
                Arguments.of("llama3 rope scaling, tied", TinyModels.llama3Scaled(), 2),
                Arguments.of("qwen2 qkv bias", TinyModels.qwen2Bias(), 2),
                Arguments.of("qwen3 qk norm, head_dim 24", TinyModels.qwen3QkNorm(), 2),
                Arguments.of("mistral sliding window 5", TinyModels.mistralWindow(), 2));
    }

    @ParameterizedTest(name = "{0} over {2} ranks")
    @MethodSource("splits")
    void ranksGiveTheOneRankLogitsUpToRounding(String name, ModelConfig config, int size) {
        assertClose(name, run(config, TinyModels.weights(config, 7), 1, 4), run(config,
                TinyModels.weights(config, 7), size, 4));
    }

    @Test
    void rowParallelBiasesAreAddedOnceAfterTheReduction() {
        ModelConfig config = TinyModels.llamaMha();
        MapWeights weights = TinyModels.weights(config, 11);
        Random rnd = new Random(3);
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            weights.put(p + "self_attn.o_proj.bias", gaussian(rnd, config.hiddenSize()), config.hiddenSize());
            weights.put(p + "mlp.gate_proj.bias", gaussian(rnd, config.intermediateSize()), config.intermediateSize());
            weights.put(p + "mlp.up_proj.bias", gaussian(rnd, config.intermediateSize()), config.intermediateSize());
            weights.put(p + "mlp.down_proj.bias", gaussian(rnd, config.hiddenSize()), config.hiddenSize());
        }
        float[][] one = run(config, weights, 1, 4);
        assertClose("biased, 2 ranks", one, run(config, weights, 2, 4));
        assertClose("biased, 4 ranks", one, run(config, weights, 4, 4));
    }

    @Test
    void chunkingAndThreadsDoNotChangeOneBitOverTwoRanks() {
        ModelConfig config = TinyModels.qwen3QkNorm();
        MapWeights weights = TinyModels.weights(config, 5);
        float[][] oneChunk;
        try (CpuBackend backend = new CpuBackend(config, weights, 1, 2)) {
            oneChunk = PagedDriver.runAlone(backend, 4, null, PROMPT, PROMPT.length);
        }
        try (CpuBackend backend = new CpuBackend(config, weights, 3, 2)) {
            assertArrayEquals(oneChunk, PagedDriver.runAlone(backend, 3, 99L, PROMPT, 5, 7, 1));
        }
    }

    @Test
    void theRanksKvHeadsAddUpToTheModels() {
        ModelConfig config = TinyModels.llamaMha();
        try (CpuBackend one = new CpuBackend(config, TinyModels.weights(config, 1), 1, 1);
             CpuBackend four = new CpuBackend(config, TinyModels.weights(config, 1), 1, 4)) {
            assertEquals(one.kvCacheBytesPerBlock(16), four.kvCacheBytesPerBlock(16));
            assertEquals(2L * config.numHiddenLayers() * 16 * config.kvSize() * Float.BYTES,
                    four.kvCacheBytesPerBlock(16));
        }
    }

    private static float[][] run(ModelConfig config, MapWeights weights, int size, int blockSize) {
        try (CpuBackend backend = new CpuBackend(config, weights, 2, size)) {
            return PagedDriver.runAlone(backend, blockSize, 11L, PROMPT, 6, 4, 3);
        }
    }

    /** Every logit within float32 rounding of a reordered sum, relative to the largest. */
    private static void assertClose(String what, float[][] expected, float[][] actual) {
        for (int pos = 0; pos < expected.length; pos++) {
            double scale = 0;
            for (float v : expected[pos]) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int v = 0; v < expected[pos].length; v++) {
                double diff = Math.abs(actual[pos][v] - expected[pos][v]);
                assertTrue(diff <= 1e-5 * scale, what + " position " + pos + " token " + v + ": " + actual[pos][v]
                        + " vs one rank's " + expected[pos][v]);
            }
        }
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (0.3 * rnd.nextGaussian());
        }
        return v;
    }
}
