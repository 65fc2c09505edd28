package io.kindling.spark.runtime;

import io.kindling.core.EngineService;

/**
 * The engines of this JVM (one per executor), keyed by {@link EngineKey}: created once, lazily on the first task
 * or eagerly by the executor plugin, shared by all concurrent tasks, closed on executor shutdown.
 */
public final class ExecutorEngines {

    private ExecutorEngines() {
    }

    /**
     * The engine for {@code key}, started on first use: the model is copied once per host into the local cache
     * when it is a remote URI, and {@code cuda} binds to the GPU address Spark assigned to the current task.
     *
     * @throws io.kindling.backend.BackendUnavailableException when the device cannot be used (never a silent
     *     fallback to the CPU)
     */
    public static EngineService acquire(EngineKey key) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * The seed of one row's sampler: a function of the configured seed, the prompt and an optional key column
     * value only, never of arrival order, partitioning, task or retry.
     */
    public static long rowSeed(long configuredSeed, String prompt, String key) {
        throw new UnsupportedOperationException("TODO");
    }
}
