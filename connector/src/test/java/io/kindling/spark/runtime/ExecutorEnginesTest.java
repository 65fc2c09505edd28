package io.kindling.spark.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.BackendUnavailableException;
import io.kindling.core.EngineService;
import io.kindling.runtime.BundledModel;
import io.kindling.runtime.EngineKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ExecutorEnginesTest {

    @AfterEach
    void closeEngines() {
        ExecutorEngines.closeAll();
    }

    @Test
    void sixteenConcurrentTasksShareOneEngineLoadedOnce() throws Exception {
        int loadsBefore = ExecutorEngines.loadCount();
        ExecutorService tasks = Executors.newFixedThreadPool(16);
        List<Future<EngineService>> engines = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            engines.add(tasks.submit(() -> ExecutorEngines.acquire(BundledModel.key())));
        }
        tasks.shutdown();
        EngineService engine = engines.get(0).get();
        for (Future<EngineService> other : engines) {
            assertSame(engine, other.get());
        }
        assertEquals(loadsBefore + 1, ExecutorEngines.loadCount());
        assertArrayEquals(BundledModel.APPLE_GREEDY, BundledModel.greedyApple(engine));

        EngineService fewerSeqs = ExecutorEngines.acquire(BundledModel.key(BundledModel.DIR.toString(), "cpu", 2));
        assertNotSame(engine, fewerSeqs);
        assertEquals(loadsBefore + 2, ExecutorEngines.loadCount());
    }

    @Test
    void cudaWithoutAssignedGpuFailsSayingSoAndIsNotCached() {
        int loadsBefore = ExecutorEngines.loadCount();
        EngineKey cuda = BundledModel.key(BundledModel.DIR.toString(), "cuda", 8);
        for (int attempt = 0; attempt < 2; attempt++) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                    () -> ExecutorEngines.acquire(cuda));
            assertTrue(e.getMessage().startsWith("spark.kindling.device=cuda bound to cuda (Spark assigned no GPU "
                    + "to this task or executor"), e.getMessage());
            // the CUDA backend is on the classpath, but this machine has no driver
            assertTrue(e.getMessage().contains("CUDA device 0 was requested, but the CUDA driver cannot be used here"),
                    e.getMessage());
        }
        assertEquals(loadsBefore, ExecutorEngines.loadCount());
    }

    @Test
    void explicitCudaDeviceIsKept() {
        EngineKey cuda3 = BundledModel.key(BundledModel.DIR.toString(), "cuda:3", 8);
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> ExecutorEngines.acquire(cuda3));
        assertTrue(e.getMessage().startsWith("spark.kindling.device=cuda:3 bound to cuda:3 (as configured): "
                + "CUDA device 3 was requested"), e.getMessage());
    }

    @Test
    void missingFileUriModelNamesItsPath() {
        EngineKey key = BundledModel.key("file:///nonexistent/kindling/model", "cpu", 8);
        RuntimeException e = assertThrows(RuntimeException.class, () -> ExecutorEngines.acquire(key));
        assertTrue(e.getMessage().contains("/nonexistent/kindling/model"), e.getMessage());
    }
}
