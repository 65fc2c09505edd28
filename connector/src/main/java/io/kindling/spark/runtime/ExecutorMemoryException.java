package io.kindling.spark.runtime;

import io.kindling.core.KvCacheMemoryException;
import io.kindling.runtime.EngineKey;
import java.util.Locale;
import org.apache.spark.SparkEnv;

/**
 * The model and its KV cache do not fit the executor's heap: says how much heap there is and which settings to
 * change, so the task fails with that instead of an {@code OutOfMemoryError} that kills the executor.
 */
public final class ExecutorMemoryException extends RuntimeException {

    private ExecutorMemoryException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The automatic budget (a quarter of the heap less the weights) is below the smallest useful cache. */
    static ExecutorMemoryException tooSmall(EngineKey key, KvCacheMemoryException e) {
        return new ExecutorMemoryException("llm_generate: model " + key.model() + " and its smallest useful KV cache "
                + "do not fit this executor's heap (" + heap() + "): " + e.getMessage()
                + ". Raise spark.executor.memory, or set spark.kindling.kvCacheMemory (at least "
                + mib(e.neededBytes()) + ") and size spark.executor.memory for it", e);
    }

    /** The heap ran out while the engine loaded the weights or allocated the cache. */
    static ExecutorMemoryException outOfMemory(EngineKey key, OutOfMemoryError e) {
        String cache = key.engine().kvCacheMemoryBytes() > 0
                ? "a KV cache of spark.kindling.kvCacheMemory=" + mib(key.engine().kvCacheMemoryBytes())
                : "its automatic KV cache";
        return new ExecutorMemoryException("llm_generate: model " + key.model() + " and " + cache
                + " do not fit this executor's heap (" + heap() + "): raise spark.executor.memory"
                + (key.engine().kvCacheMemoryBytes() > 0 ? " or lower spark.kindling.kvCacheMemory" : ""), e);
    }

    private static String heap() {
        SparkEnv env = SparkEnv.get();
        String setting = env == null ? "" : ", spark.executor.memory=" + env.conf().get("spark.executor.memory", "1g");
        return "at most " + mib(Runtime.getRuntime().maxMemory()) + setting;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (1024.0 * 1024));
    }
}
