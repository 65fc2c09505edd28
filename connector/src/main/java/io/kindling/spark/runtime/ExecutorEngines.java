package io.kindling.spark.runtime;

import io.kindling.backend.BackendUnavailableException;
import io.kindling.core.EngineConfig;
import io.kindling.core.EngineService;
import io.kindling.core.KvCacheMemoryException;
import io.kindling.runtime.BoundDevice;
import io.kindling.runtime.EngineKey;
import io.kindling.runtime.EngineRegistry;
import io.kindling.runtime.ModelLocationException;
import io.kindling.runtime.RowSeeds;
import java.util.List;

/**
 * The engines of this JVM (one per executor), keyed by {@link EngineKey}: created once, lazily on the first task
 * or eagerly by the executor plugin, shared by all concurrent tasks, closed on executor shutdown.
 */
public final class ExecutorEngines {

    private static final EngineRegistry ENGINES = new EngineRegistry(ExecutorEngines::start);

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ENGINES::closeAll, "kindling-engines-shutdown"));
    }

    private ExecutorEngines() {
    }

    /**
     * The engine for {@code key}, started on first use: the model is copied once per host into the local cache
     * when it is a remote URI, and {@code cuda} binds to the GPU address Spark assigned to the current task.
     * Concurrent first calls start one engine; a failed start is not remembered, so the next call tries again.
     *
     * @throws io.kindling.backend.BackendUnavailableException when the device cannot be used (never a silent
     *     fallback to the CPU); the message says which GPU Spark assigned
     * @throws ModelLocationException when the model cannot be found or copied to this host
     * @throws io.kindling.model.ModelLoadException when the checkpoint cannot be loaded
     * @throws ExecutorMemoryException when the model and its KV cache do not fit the executor's heap
     */
    public static EngineService acquire(EngineKey key) {
        BoundDevice binding = DeviceBinding.forCurrentTask(key.engine().device(),
                key.engine().tensorParallelSize());
        try {
            return ENGINES.acquire(key.withDevice(binding.device()));
        } catch (BackendUnavailableException e) {
            throw binding.explain(DeviceBinding.DEVICE_CONF, e);
        }
    }

    /**
     * The seed of one row's sampler: a function of the configured seed, the prompt and an optional key column
     * value only, never of arrival order, partitioning, task or retry.
     */
    public static long rowSeed(long configuredSeed, String prompt, String key) {
        return RowSeeds.of(configuredSeed, prompt, key);
    }

    /** Engines this JVM has started (closed ones included): one per executor and key when all goes well. */
    public static int loadCount() {
        return ENGINES.loadCount();
    }

    /** This JVM's running engines: their requests and counters, as tests and diagnostics read them. */
    public static List<EngineService> running() {
        return ENGINES.running();
    }

    /** Closes every engine of this JVM; the next {@link #acquire} starts a new one. */
    public static void closeAll() {
        ENGINES.closeAll();
    }

    /** {@code key.engine().device()} is already bound to this task's GPU. */
    private static EngineService start(EngineKey key) {
        EngineConfig config = key.config(ModelLocation.local(key.model()));
        ExecutorLog.quietTokenizerProbe();
        EngineService engine;
        try {
            engine = EngineService.start(config);
        } catch (KvCacheMemoryException e) {
            throw ExecutorMemoryException.tooSmall(key, e);
        } catch (OutOfMemoryError e) {
            // The allocation that failed is gone with the half-built engine: the executor lives on, the task fails.
            throw ExecutorMemoryException.outOfMemory(key, e);
        }
        ExecutorLog.started(key, engine);
        return engine;
    }
}
