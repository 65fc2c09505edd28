package io.kindling.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kindling.backend.TensorParallelPlan.Shard;
import io.kindling.backend.TensorParallelPlan.Slice;
import io.kindling.model.Architecture;
import io.kindling.model.DType;
import io.kindling.model.ModelConfig;
import io.kindling.model.Rope;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class TensorParallelPlanTest {

    /** Llama 3.2 1B's shape: 32 heads, 8 KV heads, intermediate 8192, vocabulary 128256. */
    private static final ModelConfig LLAMA_1B = config(32, 8, 8192, 128256);

    private static ModelConfig config(int heads, int kvHeads, int intermediate, int vocab) {
        return new ModelConfig(Architecture.LLAMA, vocab, 2048, intermediate, 16, heads, kvHeads, 64, 1e-5,
                Rope.standard(500000), 131072, true, false, false, OptionalInt.empty(), DType.BF16,
                OptionalInt.of(128000), List.of(128001));
    }

    @Test
    void oneRankHoldsEverything() {
        assertEquals(List.of(new Shard(0, new Slice(0, 32), new Slice(0, 8), new Slice(0, 8192),
                new Slice(0, 128256))), TensorParallelPlan.of(LLAMA_1B, 1).shards());
    }

    @Test
    void llama1bOverTwoRanks() {
        assertEquals(List.of(
                new Shard(0, new Slice(0, 16), new Slice(0, 4), new Slice(0, 4096), new Slice(0, 64128)),
                new Shard(1, new Slice(16, 32), new Slice(4, 8), new Slice(4096, 8192), new Slice(64128, 128256))),
                TensorParallelPlan.of(LLAMA_1B, 2).shards());
    }

    @Test
    void llama1bOverFourRanks() {
        TensorParallelPlan plan = TensorParallelPlan.of(LLAMA_1B, 4);
        assertEquals(4, plan.tensorParallelSize());
        assertEquals(new Shard(2, new Slice(16, 24), new Slice(4, 6), new Slice(4096, 6144), new Slice(64128, 96192)),
                plan.shards().get(2));
        assertEquals(new Slice(96192, 128256), plan.shards().get(3).vocab());
        // the rank's query heads read exactly its KV heads (GQA groups of 4)
        assertEquals(new Slice(1024, 1536), plan.shards().get(2).queryHeads().times(64));
        assertEquals(3, plan.vocabOwner(128255).rank());
        assertEquals(2, plan.vocabOwner(64128).rank());
    }

    @Test
    void vocabularyNotDividedLeavesTheLastSliceShorter() {
        List<Shard> shards = TensorParallelPlan.of(config(4, 4, 40, 101), 4).shards();
        assertEquals(List.of(new Slice(0, 26), new Slice(26, 52), new Slice(52, 78), new Slice(78, 101)),
                shards.stream().map(Shard::vocab).toList());
        // ceil(5 / 4) = 2: the last rank has no vocabulary at all
        assertEquals(new Slice(5, 5), TensorParallelPlan.of(config(4, 4, 40, 5), 4).shards().get(3).vocab());
    }

    @Test
    void refusesSizesThatDoNotDivideTheModel() {
        assertRefused(LLAMA_1B, 3, "tensor_parallel_size: 3 does not divide num_attention_heads 32");
        assertRefused(config(32, 12, 8192, 100), 8, "tensor_parallel_size: 8 does not divide num_key_value_heads 12");
        assertRefused(config(32, 8, 8000, 100), 16, "tensor_parallel_size: 16 is more than num_key_value_heads 8");
        assertRefused(config(32, 8, 8100, 100), 8, "tensor_parallel_size: 8 does not divide intermediate_size 8100");
        assertRefused(LLAMA_1B, 0, "tensor_parallel_size: must be at least 1, got 0");
    }

    @Test
    void refusesMoreRanksThanKvHeadsSayingReplicationIsNotSupported() {
        TensorParallelException e = assertThrows(TensorParallelException.class,
                () -> TensorParallelPlan.of(config(32, 1, 8192, 100), 2));
        assertEquals("tensor_parallel_size", e.setting());
        assertEquals("2 is more than num_key_value_heads 1: replicating KV heads across ranks (as vLLM does) is not "
                + "supported; use at most 1", e.problem());
    }

    private static void assertRefused(ModelConfig config, int size, String messageStart) {
        TensorParallelException e = assertThrows(TensorParallelException.class,
                () -> TensorParallelPlan.of(config, size));
        assertEquals(messageStart, e.getMessage().substring(0, Math.min(e.getMessage().length(),
                messageStart.length())), e.getMessage());
    }
}
