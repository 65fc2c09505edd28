package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.backend.TensorParallelPlan;
import io.kindling.model.Checkpoint;
import io.kindling.model.ModelConfig;
import io.kindling.testing.Fixtures;
import org.junit.jupiter.api.Test;

/** What a rank's kernels and buffers are sized by; no GPU needed. */
class CudaRankTest {

    @Test
    void aRankSeesItsHeadsAndFeaturesAndTheWholeRest() {
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint("llama3-tiny"))) {
            ModelConfig config = checkpoint.config();
            TensorParallelPlan plan = TensorParallelPlan.of(config, 2);
            ModelConfig rank1 = CudaRank.localConfig(config, plan.shards().get(1));
            assertEquals(config.numAttentionHeads() / 2, rank1.numAttentionHeads());
            assertEquals(config.numKeyValueHeads() / 2, rank1.numKeyValueHeads());
            assertEquals(config.intermediateSize() / 2, rank1.intermediateSize());
            assertEquals(config.headDim(), rank1.headDim());
            assertEquals(config.hiddenSize(), rank1.hiddenSize());
            assertEquals(config.vocabSize(), rank1.vocabSize());
            // the ranks' KV caches together are the unsplit model's
            assertEquals(DeviceKvCache.bytesPerBlock(config, 16), 2 * DeviceKvCache.bytesPerBlock(rank1, 16));
            assertEquals(config, CudaRank.localConfig(config, TensorParallelPlan.of(config, 1).shards().get(0)));
        }
    }
}
