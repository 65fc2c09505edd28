package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kindling.backend.TensorParallelPlan;
import io.kindling.core.EngineConfigException;
import io.kindling.model.Checkpoint;
import io.kindling.model.ModelConfig;
import io.kindling.testing.Fixtures;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The CUDA backend's tensor-parallel decisions that need no GPU: which splits its kernels take, the KV budget. */
class CudaTensorParallelPlanningTest {

    private static final long GIB = 1L << 30;

    private static ModelConfig config(String fixture) {
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint(fixture))) {
            return checkpoint.config();
        }
    }

    private static ModelConfig llama3() {
        return config("llama3-tiny");
    }

    /** A 1B-like shape (32 heads, 16 KV heads, 8,192 MLP features) over {@code vocabSize} tokens. */
    private static ModelConfig withVocabulary(int vocabSize) {
        ModelConfig llama3 = llama3();
        return new ModelConfig(llama3.architecture(), vocabSize, 2048, 8192, 2, 32, 16, 64, 1e-5, llama3.rope(), 4096,
                true, false, false, OptionalInt.empty(), llama3.dtype(), OptionalInt.empty(), List.of(1));
    }

    @Test
    void aSplitWhoseRankSlicesAreMultiplesOf8IsTaken() {
        ModelConfig llama3 = llama3(); // 32 query features, 48 MLP features
        CudaBackend.checkShapes(llama3, TensorParallelPlan.of(llama3, 1));
        CudaBackend.checkShapes(llama3, TensorParallelPlan.of(llama3, 2));
    }

    @Test
    void aSplitTheGemmCannotTakeIsRefusedNamingTheOption() {
        ModelConfig qwen3 = config("qwen3-tiny"); // intermediate_size 40
        CudaBackend.checkShapes(qwen3, TensorParallelPlan.of(qwen3, 1));
        EngineConfigException e = assertThrows(EngineConfigException.class,
                () -> CudaBackend.checkShapes(qwen3, TensorParallelPlan.of(qwen3, 2)));
        assertEquals("tensor_parallel_size", e.setting());
        assertEquals("tensor_parallel_size: 2 leaves each rank 2 heads * head_dim 8 = 16 query features and "
                + "intermediate_size 40 / 2 = 20 MLP features; the CUDA GEMM needs both to be multiples of 8",
                e.getMessage());
    }

    @Test
    void moreRanksThanTheAllReduceSumsAreRefused() {
        ModelConfig wide = withVocabulary(128256);
        EngineConfigException e = assertThrows(EngineConfigException.class,
                () -> CudaBackend.checkShapes(wide, TensorParallelPlan.of(wide, 16)));
        assertEquals("tensor_parallel_size: 16 ranks; the CUDA all-reduce sums at most 8 (one GPU a rank, as on one "
                + "host)", e.getMessage());
    }

    @Test
    void aRankLeftWithoutVocabularyIsRefused() {
        // 5 tokens over 4 ranks: slices of 2, so rank 2's ends the vocabulary and rank 3's is empty
        ModelConfig tiny = withVocabulary(5);
        EngineConfigException e = assertThrows(EngineConfigException.class,
                () -> CudaBackend.checkShapes(tiny, TensorParallelPlan.of(tiny, 4)));
        assertEquals("tensor_parallel_size: 4 leaves rank 3 no vocabulary: slices of 2 tokens cover the 5 before it",
                e.getMessage());
        CudaBackend.checkShapes(tiny, TensorParallelPlan.of(tiny, 2));
    }

    @Test
    void oneGpuGivesWhatTheUtilizationLeaves() {
        assertEquals(62 * GIB, CudaBackend.kvBudget(CudaDevices.parse("cuda:0", 1), new long[] {80 * GIB},
                new long[] {10 * GIB}, 0.9));
    }

    @Test
    void ranksOnOneGpuShareItsBudget() {
        // two ranks on one 80 GiB card: 62 GiB left, 31 GiB for each rank's half of every block
        assertEquals(62 * GIB, CudaBackend.kvBudget(CudaDevices.parse("cuda:0,0", 2), new long[] {80 * GIB, 80 * GIB},
                new long[] {10 * GIB, 10 * GIB}, 0.9));
    }

    @Test
    void theFullestGpuBoundsEveryRank() {
        // GPU 1 has 20 GiB more in use (another process): its 42 GiB bound both ranks' caches
        assertEquals(84 * GIB, CudaBackend.kvBudget(CudaDevices.parse("cuda:0,1", 2), new long[] {80 * GIB, 80 * GIB},
                new long[] {10 * GIB, 30 * GIB}, 0.9));
    }
}
