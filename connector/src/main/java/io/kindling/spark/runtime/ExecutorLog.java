package io.kindling.spark.runtime;

import io.kindling.core.EngineService;
import io.kindling.core.EngineStats;
import io.kindling.runtime.EngineKey;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an executor says about its engines: one line per engine started (device, kernel, KV cache), and once per
 * JVM a warning when the CPU kernel runs without the Vector API module.
 */
final class ExecutorLog {

    static final String VECTOR_OPTION = "--add-modules=jdk.incubator.vector";

    private static final Logger LOG = LoggerFactory.getLogger("io.kindling.spark");
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /** DJL's CUDA probe logs a warning at every tokenizer load on hosts without a usable GPU. */
    private static final String DJL_CUDA_PROBE = "ai.djl.util.cuda.CudaUtils";

    private ExecutorLog() {
    }

    static void started(EngineKey key, EngineService engine) {
        EngineStats stats = engine.stats();
        LOG.info(String.format(Locale.ROOT, "Kindling: engine for model %s on executor %s: device %s, KV cache %d "
                        + "blocks of %d tokens (%.0f MiB)", key.model(), executorId(), engine.device(),
                stats.numBlocks(), stats.blockSize(), stats.numBlocks() * (double) stats.kvCacheBytesPerBlock()
                        / (1 << 20)));
        vectorApiWarning(engine.device(), ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent())
                .filter(w -> WARNED.compareAndSet(false, true))
                .ifPresent(LOG::warn);
    }

    /** The warning for an engine on {@code device}, when the JVM lacks the Vector API module and it matters. */
    static Optional<String> vectorApiWarning(String device, boolean vectorModule) {
        if (vectorModule || !device.startsWith("cpu")) {
            return Optional.empty();
        }
        return Optional.of("Kindling: this JVM runs without the Vector API module, so the CPU backend uses its "
                + "plain-loop kernel, about half as fast (" + device + "). Add " + VECTOR_OPTION
                + " to spark.executor.extraJavaOptions and spark.driver.extraJavaOptions");
    }

    /**
     * Raises DJL's CUDA probe logger to ERROR, unless the logging configuration names it: its warning says only that
     * the host has no GPU, three times per JVM. Spark logs through Log4j 2; any other backend is left alone.
     */
    static void quietTokenizerProbe() {
        try {
            Log4jLevels.raiseToError(DJL_CUDA_PROBE);
        } catch (LinkageError e) {
            // Not Log4j 2: nothing to configure.
        }
    }

    private static String executorId() {
        SparkEnv env = SparkEnv.get();
        return env == null ? "(none)" : env.executorId();
    }
}
