package io.kindling.spark.runtime;

import io.kindling.core.EngineService;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Engines by key, each started once: the first caller starts it on its own thread while concurrent callers of
 * the same key wait for that start and share its outcome. A failed start is forgotten, so the next task tries
 * again (and reports the same error if the cause persists) instead of failing forever on a stale result.
 */
final class EngineRegistry {

    private final Function<EngineKey, EngineService> starter;
    private final Map<EngineKey, CompletableFuture<EngineService>> engines = new ConcurrentHashMap<>();
    private final AtomicInteger loads = new AtomicInteger();

    EngineRegistry(Function<EngineKey, EngineService> starter) {
        this.starter = starter;
    }

    EngineService acquire(EngineKey key) {
        CompletableFuture<EngineService> starting = new CompletableFuture<>();
        CompletableFuture<EngineService> existing = engines.putIfAbsent(key, starting);
        if (existing != null) {
            return await(existing);
        }
        try {
            EngineService engine = starter.apply(key);
            loads.incrementAndGet();
            starting.complete(engine);
            return engine;
        } catch (RuntimeException | Error e) {
            engines.remove(key, starting);
            starting.completeExceptionally(e);
            throw e;
        }
    }

    /** Engines started successfully so far, closed ones included. */
    int loadCount() {
        return loads.get();
    }

    /** Closes every engine; one still starting is closed as soon as its start finishes. */
    void closeAll() {
        for (EngineKey key : engines.keySet()) {
            CompletableFuture<EngineService> engine = engines.remove(key);
            if (engine != null) {
                engine.thenAccept(EngineService::close);
            }
        }
    }

    private static EngineService await(CompletableFuture<EngineService> engine) {
        try {
            return engine.join();
        } catch (CompletionException e) {
            // The starter's own exception, so callers see the typed error (BackendUnavailableException, ...).
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}
