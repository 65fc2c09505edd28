package io.kindling.flink;

import io.kindling.backend.BackendUnavailableException;
import io.kindling.core.EngineService;
import io.kindling.core.KvCacheMemoryException;
import io.kindling.runtime.BoundDevice;
import io.kindling.runtime.EngineKey;
import io.kindling.runtime.EngineLease;
import io.kindling.runtime.EngineRegistry;
import io.kindling.runtime.ModelCache;
import io.kindling.runtime.ModelLocator;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines of this TaskManager, keyed by {@link EngineKey}: started by the first subtask that opens a Kindling
 * function, shared by every slot and job asking for the same model and options, closed when the last of them
 * closes. With the Kindling jar in the TaskManager's {@code lib/}, jobs share the engine; with it in a job's jar each
 * job's class loader has its own registry, which its functions empty again when the job ends.
 */
public final class TaskManagerEngines {

    /** Flink's GPU plugin's resource name and the property that holds a GPU's index. */
    static final String GPU = "gpu";
    private static final String GPU_INDEX = "index";
    private static final Logger LOG = LoggerFactory.getLogger(TaskManagerEngines.class);
    private static final EngineRegistry ENGINES = new EngineRegistry(TaskManagerEngines::start);

    private TaskManagerEngines() {
    }

    /**
     * The engine for {@code key}, held until the lease closes; {@code cuda} binds to the least used of the GPUs that
     * Flink's GPU plugin gave this TaskManager (by this key's leases: one engine a GPU, the slots spread over them),
     * else the default CUDA device.
     *
     * @throws BackendUnavailableException when the device cannot be used, naming the binding
     * @throws io.kindling.runtime.ModelLocationException when the model cannot be found or copied to this host
     * @throws TaskManagerMemoryException when the model and its KV cache do not fit the heap
     */
    static EngineLease lease(EngineKey key, FunctionContext context) {
        List<BoundDevice> choices = bind(key.engine().device(), key.engine().tensorParallelSize(), context);
        Thread thread = Thread.currentThread();
        ClassLoader jobLoader = thread.getContextClassLoader();
        // The engine's threads inherit the start's context loader: Kindling's own, so that an engine shared by later
        // jobs never pins the class loader of the job that happened to start it.
        thread.setContextClassLoader(TaskManagerEngines.class.getClassLoader());
        try {
            return ENGINES.leaseLeastHeld(choices.stream().map(choice -> key.withDevice(choice.device())).toList());
        } catch (BackendUnavailableException e) {
            throw BoundDevice.explain("device", choices, e);
        } finally {
            thread.setContextClassLoader(jobLoader);
        }
    }

    /**
     * The devices a subtask may run on: for {@code cuda}, each GPU (each group of {@code ranks} GPUs) that Flink's
     * GPU plugin gave this TaskManager, which {@link #lease} spreads the slots over; else the default CUDA device.
     * Flink gives the GPUs to the TaskManager, not to a slot, so the spreading is Kindling's.
     */
    static List<BoundDevice> bind(String configured, int ranks, FunctionContext context) {
        List<String> gpus = context.getExternalResourceInfos(GPU).stream()
                .map(info -> info.getProperty(GPU_INDEX)).flatMap(Optional::stream)
                .sorted(Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder())) // 2 < 10
                .toList();
        List<BoundDevice> choices = BoundDevice.choices(configured, ranks, gpus,
                "Flink's GPU plugin gave this TaskManager", "external-resource.gpu.amount");
        return choices.isEmpty() ? List.of(new BoundDevice(configured, configured, "Flink assigned no GPU to this "
                + "TaskManager (external-resources: gpu), so the default CUDA device")) : choices;
    }

    /** Engines this JVM has started, closed ones included. */
    public static int loadCount() {
        return ENGINES.loadCount();
    }

    /** This JVM's running engines. */
    public static List<EngineService> running() {
        return ENGINES.running();
    }

    private static EngineService start(EngineKey key) {
        EngineService engine;
        try {
            engine = EngineService.start(key.config(ModelLocator.local(key.model(),
                    () -> new ModelCache(ModelLocator.defaultCacheRoot(), new Configuration()))));
        } catch (KvCacheMemoryException e) {
            throw new TaskManagerMemoryException("model " + key.model() + " and its smallest useful KV cache do not "
                    + "fit this TaskManager's heap (" + mib(Runtime.getRuntime().maxMemory()) + "): " + e.getMessage()
                    + ". Raise taskmanager.memory.task.heap.size, or set the model's 'kv-cache-memory'", e);
        } catch (OutOfMemoryError e) {
            throw new TaskManagerMemoryException("model " + key.model() + " and its KV cache do not fit this "
                    + "TaskManager's heap (" + mib(Runtime.getRuntime().maxMemory()) + "): raise "
                    + "taskmanager.memory.task.heap.size or lower the model's 'kv-cache-memory'", e);
        }
        LOG.info("Kindling: engine for model {} on device {}: KV cache {} blocks of {} tokens", key.model(),
                engine.device(), engine.stats().numBlocks(), engine.stats().blockSize());
        return engine;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "at most %.0f MiB", bytes / (1024.0 * 1024));
    }
}
