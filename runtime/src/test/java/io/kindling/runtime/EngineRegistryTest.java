package io.kindling.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.EngineConfig;
import io.kindling.core.EngineService;
import io.kindling.core.Request;
import io.kindling.model.ModelLoadException;
import io.kindling.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EngineRegistryTest {

    private static final int TASKS = 16;

    private final AtomicInteger starts = new AtomicInteger();
    /** Counted down by each concurrent task as it calls acquire; open for the one-thread tests. */
    private CountDownLatch allArrived = new CountDownLatch(0);
    /** Holds the start back until the test opens it. */
    private CountDownLatch release = new CountDownLatch(0);
    private final List<EngineRegistry> registries = new ArrayList<>();

    @AfterEach
    void closeEngines() {
        registries.forEach(EngineRegistry::closeAll);
    }

    /** Starts the real engine on the key's model once all tasks are inside acquire, so their calls overlap. */
    private EngineRegistry registry() {
        Function<EngineKey, EngineService> starter = key -> {
            starts.incrementAndGet();
            try {
                allArrived.await(10, TimeUnit.SECONDS);
                release.await(10, TimeUnit.SECONDS);
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return EngineService.start(key.config(Path.of(key.model())));
        };
        EngineRegistry registry = new EngineRegistry(starter);
        registries.add(registry);
        return registry;
    }

    private List<Future<EngineService>> acquireConcurrently(EngineRegistry registry, EngineKey key) {
        return concurrently(() -> registry.acquire(key));
    }

    /** {@code call} on {@link #TASKS} threads at once: the start waits until all of them are inside it. */
    private <T> List<Future<T>> concurrently(Callable<T> call) {
        allArrived = new CountDownLatch(TASKS);
        ExecutorService tasks = Executors.newFixedThreadPool(TASKS);
        List<Future<T>> results = new ArrayList<>();
        for (int i = 0; i < TASKS; i++) {
            results.add(tasks.submit(() -> {
                allArrived.countDown();
                return call.call();
            }));
        }
        tasks.shutdown();
        return results;
    }

    @Test
    void concurrentFirstAcquiresStartOneEngineThatAllShare() throws Exception {
        EngineRegistry registry = registry();
        List<Future<EngineService>> engines = acquireConcurrently(registry, BundledModel.key());
        EngineService first = engines.get(0).get();
        for (Future<EngineService> engine : engines) {
            assertSame(first, engine.get());
        }
        assertEquals(1, starts.get());
        assertEquals(1, registry.loadCount());
        assertArrayEquals(BundledModel.APPLE_GREEDY, BundledModel.greedyApple(first));
    }

    @Test
    void equalKeysShareAnEngineAndDifferentKeysGetTheirOwn() {
        EngineRegistry registry = registry();
        EngineService a = registry.acquire(BundledModel.key());
        assertSame(a, registry.acquire(BundledModel.key()));
        EngineService b = registry.acquire(BundledModel.key(BundledModel.DIR.toString(), "cpu", 4));
        assertNotSame(a, b);
        assertSame(b, registry.acquire(BundledModel.key(BundledModel.DIR.toString(), "cpu", 4)));
        assertEquals(2, registry.loadCount());
    }

    @Test
    void concurrentCallersShareAFailedStartAndTheNextCallTriesAgain(@TempDir Path tmp) throws Exception {
        Path later = tmp.resolve("arrives-later");
        EngineRegistry registry = registry();
        EngineKey key = BundledModel.key(later.toString(), "cpu", 8);
        for (Future<EngineService> engine : acquireConcurrently(registry, key)) {
            ExecutionException e = assertThrows(ExecutionException.class, engine::get);
            assertTrue(e.getCause() instanceof ModelLoadException, e.getCause().toString());
            assertTrue(e.getCause().getMessage().contains(later.toString()), e.getCause().getMessage());
        }
        int failedStarts = starts.get();
        assertEquals(0, registry.loadCount());

        BundledModel.copyTo(later);
        EngineService engine = registry.acquire(key);
        assertEquals(failedStarts + 1, starts.get());
        assertEquals(1, registry.loadCount());
        assertSame(engine, registry.acquire(key));
    }

    @Test
    void closeAllClosesTheEnginesAndTheNextAcquireStartsAFreshOne() throws Exception {
        EngineRegistry registry = registry();
        EngineService closed = registry.acquire(BundledModel.key());
        registry.closeAll();
        Request late = new Request("after-close", new int[] {1, 397}, SamplingParams.builder().maxTokens(1).build());
        assertThrows(CancellationException.class, () -> closed.submit(late).get());
        EngineService fresh = registry.acquire(BundledModel.key());
        assertNotSame(closed, fresh);
        assertEquals(2, registry.loadCount());
    }

    @Test
    void aTaskInterruptedWhileTheEngineStartsStopsWaitingAndTheStartGoesOnForTheOthers() throws Exception {
        release = new CountDownLatch(1);
        EngineRegistry registry = registry();
        ExecutorService tasks = Executors.newFixedThreadPool(2);
        CountDownLatch interruptedKept = new CountDownLatch(1);
        Future<EngineService> killed = tasks.submit(() -> {
            try {
                return registry.acquire(BundledModel.key());
            } finally {
                if (Thread.currentThread().isInterrupted()) {
                    interruptedKept.countDown();
                }
            }
        });
        Thread.sleep(200);
        killed.cancel(true);
        assertTrue(interruptedKept.await(5, TimeUnit.SECONDS));
        Future<EngineService> waiting = tasks.submit(() -> registry.acquire(BundledModel.key()));
        release.countDown();
        EngineService engine = waiting.get();
        tasks.shutdown();
        assertArrayEquals(BundledModel.APPLE_GREEDY, BundledModel.greedyApple(engine));
        assertEquals(1, starts.get());
        assertEquals(1, registry.loadCount());
    }

    @Test
    void leasesShareOneEngineWhichTheLastLeaseToCloseCloses() throws Exception {
        EngineRegistry registry = registry();
        EngineLease first = registry.lease(BundledModel.key());
        EngineLease second = registry.lease(BundledModel.key());
        assertSame(first.engine(), second.engine());
        first.close();
        first.close(); // a second close releases nothing more
        assertArrayEquals(BundledModel.APPLE_GREEDY, BundledModel.greedyApple(second.engine()));
        assertEquals(1, registry.running().size());

        second.close();
        Request late = new Request("after-last-lease", new int[] {1, 397}, SamplingParams.builder().maxTokens(1)
                .build());
        assertThrows(CancellationException.class, () -> second.engine().submit(late).get(10, TimeUnit.SECONDS));
        assertEquals(List.of(), registry.running());
        try (EngineLease fresh = registry.lease(BundledModel.key())) {
            assertNotSame(second.engine(), fresh.engine());
            assertEquals(2, registry.loadCount());
        }
    }

    /**
     * A TaskManager's slots opening together over two GPUs' keys (two CPU keys here: the choice is the registry's,
     * whatever the device): half the leases on each engine, and a slot opening later takes the one left with fewer.
     */
    @Test
    void leasesOverSeveralKeysSpreadEvenlyEvenWhenTakenTogether() throws Exception {
        EngineRegistry registry = registry();
        EngineKey gpu0 = BundledModel.key(BundledModel.DIR.toString(), "cpu", 8);
        EngineKey gpu1 = BundledModel.key(BundledModel.DIR.toString(), "cpu", 4);
        List<Future<EngineLease>> leases = concurrently(() -> registry.leaseLeastHeld(List.of(gpu0, gpu1)));
        Map<EngineService, List<EngineLease>> byEngine = new IdentityHashMap<>();
        for (Future<EngineLease> lease : leases) {
            EngineLease held = lease.get(60, TimeUnit.SECONDS);
            byEngine.computeIfAbsent(held.engine(), engine -> new ArrayList<>()).add(held);
        }
        assertEquals(2, byEngine.size());
        assertEquals(List.of(TASKS / 2, TASKS / 2), byEngine.values().stream().map(List::size).toList());

        EngineService small = registry.acquire(gpu1);
        List<EngineLease> onSmall = byEngine.get(small);
        onSmall.remove(0).close();
        onSmall.remove(0).close();
        try (EngineLease late = registry.leaseLeastHeld(List.of(gpu0, gpu1))) {
            assertSame(small, late.engine());
        }
        byEngine.values().forEach(held -> held.forEach(EngineLease::close));
    }
}
