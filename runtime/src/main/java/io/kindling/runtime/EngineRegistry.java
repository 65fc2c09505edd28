package io.kindling.runtime;

import io.kindling.core.EngineService;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Engines by key, each started once. The start runs on its own thread, not on the task that asked first: Spark
 * interrupts a task it kills (speculation, a satisfied {@code LIMIT}), Flink cancels a failing task's thread, and
 * that must neither break a model copy other tasks wait for nor keep the cancelled task waiting. Concurrent callers
 * of a key share the outcome of its start. A failed start is forgotten, so the next task tries again (and reports
 * the same error if the cause persists) instead of failing forever on a stale result.
 *
 * <p>Two ways to hold an engine: {@link #acquire} keeps it until {@link #closeAll} (Spark: tasks come and go, the
 * executor keeps its engine), {@link #lease} counts its holders and closes it when the last lease closes (Flink:
 * a job's functions open and close with it, and a TaskManager outlives its jobs and their class loaders).
 */
public final class EngineRegistry {

    private final Function<EngineKey, EngineService> starter;
    private final Map<EngineKey, CompletableFuture<EngineService>> engines = new ConcurrentHashMap<>();
    private final Map<EngineKey, Integer> leases = new HashMap<>();
    private final AtomicInteger loads = new AtomicInteger();

    public EngineRegistry(Function<EngineKey, EngineService> starter) {
        this.starter = starter;
    }

    /**
     * @throws CancellationException when the calling thread is interrupted while the engine starts (its interrupt
     *     status is kept); the start goes on for the other callers
     */
    public EngineService acquire(EngineKey key) {
        return await(starting(key));
    }

    /**
     * The engine for {@code key}, held until the lease closes; the last lease of a key to close closes its engine.
     *
     * @throws CancellationException as {@link #acquire}; no lease is then held
     */
    public EngineLease lease(EngineKey key) {
        return leaseLeastHeld(List.of(key));
    }

    /**
     * As {@link #lease}, for whichever of {@code candidates} has the fewest leases now (the first of those tied):
     * a TaskManager's slots spread over its GPUs, one engine each, instead of all taking the first. The choice and
     * the lease are one step, so slots opening together still spread.
     */
    public EngineLease leaseLeastHeld(List<EngineKey> candidates) {
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("no engine key to lease");
        }
        EngineKey key;
        CompletableFuture<EngineService> engine;
        synchronized (leases) {
            key = candidates.get(0);
            for (EngineKey candidate : candidates) {
                if (leases.getOrDefault(candidate, 0) < leases.getOrDefault(key, 0)) {
                    key = candidate;
                }
            }
            leases.merge(key, 1, Integer::sum);
            engine = starting(key);
        }
        EngineKey leased = key;
        try {
            return new EngineLease(await(engine), () -> release(leased));
        } catch (RuntimeException | Error e) {
            release(leased);
            throw e;
        }
    }

    private void release(EngineKey key) {
        CompletableFuture<EngineService> last = null;
        synchronized (leases) {
            if (leases.merge(key, -1, Integer::sum) == 0) {
                leases.remove(key);
                last = engines.remove(key);
            }
        }
        if (last != null) {
            last.thenAccept(EngineService::close);
        }
    }

    private CompletableFuture<EngineService> starting(EngineKey key) {
        CompletableFuture<EngineService> starting = new CompletableFuture<>();
        CompletableFuture<EngineService> existing = engines.putIfAbsent(key, starting);
        if (existing != null) {
            return existing;
        }
        Thread loader = new Thread(() -> start(key, starting), "kindling-engine-start");
        loader.setDaemon(true);
        // Task threads carry the job's class loader (Spark's --jars, Flink's user code); the engine's loading needs it.
        loader.setContextClassLoader(Thread.currentThread().getContextClassLoader());
        loader.start();
        return starting;
    }

    private void start(EngineKey key, CompletableFuture<EngineService> starting) {
        try {
            EngineService engine = starter.apply(key);
            loads.incrementAndGet();
            starting.complete(engine);
        } catch (Throwable e) {
            // Forgotten before anyone hears of the failure, so that a caller who hears and retries starts afresh.
            engines.remove(key, starting);
            starting.completeExceptionally(e);
        }
    }

    /** Engines started successfully so far, closed ones included. */
    public int loadCount() {
        return loads.get();
    }

    /** The engines started and not closed. */
    public List<EngineService> running() {
        return engines.values().stream().filter(f -> f.isDone() && !f.isCompletedExceptionally())
                .map(CompletableFuture::join).toList();
    }

    /** Closes every engine; one still starting is closed as soon as its start finishes. */
    public void closeAll() {
        for (EngineKey key : engines.keySet()) {
            CompletableFuture<EngineService> engine = engines.remove(key);
            if (engine != null) {
                engine.thenAccept(EngineService::close);
            }
        }
    }

    private static EngineService await(CompletableFuture<EngineService> engine) {
        try {
            return engine.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for the engine to start");
        } catch (ExecutionException e) {
            // The starter's own exception, so callers see the typed error (BackendUnavailableException, ...).
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("engine start failed", e.getCause());
        }
    }
}
