package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kindling.backend.Backend;
import io.kindling.backend.BackendOptions;
import io.kindling.backend.BackendProvider;
import io.kindling.backend.BackendUnavailableException;
import io.kindling.backend.Backends;
import io.kindling.backend.TensorParallelException;
import io.kindling.core.EngineConfigException;
import io.kindling.model.Checkpoint;
import io.kindling.testing.Fixtures;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** Discovery and refusal of the CUDA backend, on any machine. */
class CudaBackendProviderTest {

    @Test
    void isFoundThroughTheServiceLoaderForCudaDevicesOnly() {
        BackendProvider provider = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p instanceof CudaBackendProvider).findFirst()
                .orElseThrow(() -> new AssertionError("META-INF/services does not register CudaBackendProvider"));
        assertTrue(provider.serves("cuda"));
        assertTrue(provider.serves("cuda:3"));
        assertTrue(provider.serves("cuda:0,1"));
        assertFalse(provider.serves("cpu"));
        assertFalse(provider.serves("cuda:"));
        assertFalse(provider.serves("cuda:x"));
    }

    @Test
    void aMachineWithoutAUsableGpuRefusesWithTheReason() {
        assumeFalse(CudaTestSupport.available(), "this machine has a usable GPU");
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint("llama3-tiny"))) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.create(
                    "cuda:0", checkpoint, new BackendOptions(1, 0.9, 8, 64, 16, 1)));
            // the provider itself says why (no driver, no device, no kernels), not Backends that it was not found
            assertFalse(e.getMessage().contains("not on the classpath"), e.getMessage());
            assertTrue(e.getMessage().contains("CUDA") || e.getMessage().contains("JCuda"), e.getMessage());
        }
    }

    @Test
    void aDeviceListOfAnotherLengthThanTheRanksIsRefusedBeforeAnyGpuIsTouched() {
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint("llama3-tiny"))) {
            EngineConfigException e = assertThrows(EngineConfigException.class, () -> Backends.create(
                    "cuda:0,1", checkpoint, new BackendOptions(1, 0.9, 8, 64, 16, 1)));
            assertEquals("tensor_parallel_size", e.setting());
            assertTrue(e.getMessage().contains("device cuda:0,1 names 2"), e.getMessage());
        }
    }

    @Test
    void aSplitTheGemmCannotTakeIsRefusedOnAGpuEvenForDeviceAuto() {
        assumeTrue(CudaTestSupport.available(), "needs a GPU");
        // qwen3-tiny's intermediate_size 40 leaves each of two ranks 20 MLP features: not a multiple of 8
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint("qwen3-tiny"))) {
            EngineConfigException e = assertThrows(EngineConfigException.class, () -> Backends.create(
                    "cuda:0,0", checkpoint, new BackendOptions(1, 0.9, 8, 64, 16, 2)));
            assertEquals("tensor_parallel_size: 2 leaves each rank 2 heads * head_dim 8 = 16 query features and "
                    + "intermediate_size 40 / 2 = 20 MLP features; the CUDA GEMM needs both to be multiples of 8",
                    e.getMessage());
            // auto is GPUs 0 and 1: on a one-GPU host the second is missing, which is refused the same way
            EngineConfigException auto = assertThrows(EngineConfigException.class, () -> Backends.create(
                    "auto", checkpoint, new BackendOptions(1, 0.9, 8, 64, 16, 2)));
            assertEquals("tensor_parallel_size", auto.setting());
        }
    }

    @Test
    void aRankWithoutItsGpuIsRefusedNamingTheOption() {
        assumeTrue(CudaTestSupport.available(), "needs a GPU");
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint("llama3-tiny"))) {
            EngineConfigException e = assertThrows(EngineConfigException.class, () -> Backends.create(
                    "cuda:0,99", checkpoint, new BackendOptions(1, 0.9, 8, 64, 16, 2)));
            assertTrue(e.getMessage().startsWith("tensor_parallel_size: 2 on cuda:0,99: rank 1 needs CUDA device 99, "
                    + "but this machine has "), e.getMessage());
        }
    }

    @Test
    void kvHeadsThatDoNotSplitAreRefusedByThePlan() {
        assumeTrue(CudaTestSupport.available(), "needs a GPU");
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint("mistral-tiny"))) {
            TensorParallelException e = assertThrows(TensorParallelException.class, () -> Backends.create(
                    "cuda:0,0", checkpoint, new BackendOptions(1, 0.9, 8, 64, 16, 2)));
            assertTrue(e.getMessage().startsWith("tensor_parallel_size: 2 is more than num_key_value_heads 1"),
                    e.getMessage());
        }
    }

    @Test
    void withoutAGpuDeviceAutoSplitsTheModelOnTheCpu() {
        assumeFalse(CudaTestSupport.available(), "this machine has a usable GPU");
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint("llama3-tiny"));
             Backend backend = Backends.create("auto", checkpoint, new BackendOptions(1, 0.9, 8, 64, 16, 2))) {
            assertTrue(backend.device().startsWith("cpu"), backend.device());
        }
    }

    @Test
    void aMissingOrdinalIsRefusedByName() {
        assumeTrue(CudaTestSupport.available(), "needs a GPU");
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.checkpoint("llama3-tiny"))) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.create(
                    "cuda:99", checkpoint, new BackendOptions(1, 0.9, 8, 64, 16, 1)));
            assertTrue(e.getMessage().contains("CUDA device 99"), e.getMessage());
        }
    }
}
