package io.kindling.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.TensorParallelPlan;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The shapes benchmarks/gpu_bench.sh runs on random weights: what they weigh in bf16, and that the one meant for
 * tensor parallelism (Llama-3.1-70B: no single card holds it) splits over 2, 4 and 8 ranks as the plan requires.
 */
class BenchmarkShapesTest {

    private static final Path SHAPES = Path.of("..", "benchmarks", "shapes");

    private static ModelConfig shape(String name) {
        return ModelConfigParser.parse(SHAPES.resolve(name).resolve("config.json"), DType.BF16);
    }

    private static double weightGb(ModelConfig config) {
        long elements = ExpectedTensors.of(config).values().stream()
                .mapToLong(dims -> Arrays.stream(dims).reduce(1, Math::multiplyExact)).sum();
        return elements * 2 / 1e9;
    }

    @Test
    void theShapesWeighWhatTheirModelsDo() {
        assertEquals(2.47, weightGb(shape("llama-3.2-1b")), 0.01); // tied embeddings: 1.24B parameters
        assertEquals(16.06, weightGb(shape("llama-3.1-8b")), 0.01);
        double big = weightGb(shape("llama-3.1-70b"));
        assertEquals(141.1, big, 0.1);
        assertTrue(big > 80 && big / 2 < 80, "70B: more than an 80 GB card, half of it less: " + big + " GB");
    }

    @Test
    void the70bShapeSplitsOverTwoFourAndEightRanks() {
        ModelConfig config = shape("llama-3.1-70b");
        for (int ranks : new int[] {2, 4, 8}) {
            TensorParallelPlan plan = TensorParallelPlan.of(config, ranks);
            assertEquals(ranks, plan.shards().size());
            TensorParallelPlan.Shard last = plan.shards().get(ranks - 1);
            assertEquals(64 / ranks, last.queryHeads().size());
            assertEquals(8 / ranks, last.kvHeads().size());
            assertEquals(28672 / ranks, last.intermediate().size());
            assertEquals(128256, last.vocab().end());
        }
    }
}
