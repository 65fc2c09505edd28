package io.kindling.spark.runtime;

import io.kindling.backend.BackendUnavailableException;
import io.kindling.runtime.BoundDevice;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The device an engine runs on, as Spark's GPU scheduling decides it ({@link BoundDevice}): a configured {@code cuda}
 * becomes the GPU address Spark assigned to the task ({@code cuda:<addr>}; with {@code tensor_parallel_size} N, the
 * task's first N addresses, {@code spark.task.resource.gpu.amount} being N). With a fractional
 * {@code spark.task.resource.gpu.amount} several tasks get the same address, hence the same engine key and one shared
 * engine. {@code cuda:N}, {@code cuda:N,M,...}, {@code cpu} and {@code auto} are kept as configured.
 *
 * <p>Spark schedules GPUs only to tasks of cluster executors ({@code local-cluster}, standalone, YARN,
 * Kubernetes). Tasks that the driver runs itself ({@code local[N]}, where Spark leaves a task's GPU amount
 * unschedulable) and code outside a task get the default CUDA device. A cluster task given no GPU fails, naming
 * the settings that would have given it one, rather than piling every task onto one device.
 */
final class DeviceBinding {

    static final String DEVICE_CONF = "spark.kindling.device";
    static final String GPU = "gpu";
    static final String EXECUTOR_AMOUNT = "spark.executor.resource.gpu.amount";
    static final String TASK_AMOUNT = "spark.task.resource.gpu.amount";
    static final String DISCOVERY_SCRIPT = "spark.executor.resource.gpu.discoveryScript";
    /** The executor id of the driver, which runs the tasks in local mode (Spark's DRIVER_IDENTIFIER, private). */
    private static final String DRIVER = "driver";

    /** The executor's GPU addresses, as the executor plugin saw them at start-up; for error messages. */
    private static volatile List<String> executorGpus = List.of();

    private DeviceBinding() {
    }

    static void recordExecutorGpus(List<String> addresses) {
        executorGpus = List.copyOf(addresses);
    }

    /**
     * Where a task runs, as far as binding a GPU goes.
     *
     * @param taskGpus the GPU addresses Spark assigned to the task
     * @param clusterExecutor whether a cluster executor runs the task (Spark schedules GPUs to it), rather than
     *     the driver ({@code local[N]}) or no task at all
     * @param gpuSettings which of {@link #EXECUTOR_AMOUNT}, {@link #TASK_AMOUNT}, {@link #DISCOVERY_SCRIPT} the
     *     executor's configuration sets
     * @param executorGpus the executor's GPU addresses, as far as known
     */
    record Placement(List<String> taskGpus, boolean clusterExecutor, Set<String> gpuSettings,
                     List<String> executorGpus) {
    }

    /** Binds {@code configured} for the task running on this thread, one GPU for each of {@code ranks}. */
    static BoundDevice forCurrentTask(String configured, int ranks) {
        return resolve(configured, ranks, currentPlacement());
    }

    static BoundDevice resolve(String configured, int ranks, Placement placement) {
        Optional<BoundDevice> assigned = BoundDevice.toAssigned(configured, ranks, placement.taskGpus(),
                "Spark assigned to this task", TASK_AMOUNT);
        if (assigned.isPresent()) {
            return assigned.get();
        }
        if (!placement.clusterExecutor()) {
            return new BoundDevice(configured, configured, "Spark assigned no GPU to this task or executor, as in "
                    + "local mode, where the driver runs the tasks and schedules no GPUs to them; so the default "
                    + "CUDA device");
        }
        throw new BackendUnavailableException(DEVICE_CONF + "=cuda, but Spark assigned no GPU to this task"
                + (placement.executorGpus().isEmpty() ? "" : " (its executor has GPUs " + placement.executorGpus()
                        + ")") + ": " + missingSettings(placement.gpuSettings()));
    }

    /** What to set so that Spark assigns each task a GPU, naming what the configuration lacks. */
    private static String missingSettings(Set<String> present) {
        List<String> missing = Stream.of(EXECUTOR_AMOUNT, TASK_AMOUNT, DISCOVERY_SCRIPT)
                .filter(setting -> !present.contains(setting)).toList();
        String byHand = "; or name a device with spark.kindling.device=cuda:N";
        if (missing.isEmpty()) {
            return EXECUTOR_AMOUNT + ", " + TASK_AMOUNT + " and " + DISCOVERY_SCRIPT + " are set: check that the "
                    + "discovery script prints this host's GPU addresses" + byHand;
        }
        return String.join(", ", missing) + (missing.size() == 1 ? " is" : " are") + " not set. Set "
                + EXECUTOR_AMOUNT + "=1, " + TASK_AMOUNT + "=0.25 (four concurrent tasks share the executor's "
                + "engine) and " + DISCOVERY_SCRIPT + " to a script printing the GPU addresses, such as "
                + "examples/gpu/getGpusResources.sh (on standalone workers: spark.worker.resource.gpu.amount and "
                + "spark.worker.resource.gpu.discoveryScript)" + byHand;
    }

    private static Placement currentPlacement() {
        TaskContext task = TaskContext.get();
        ResourceInformation gpus = task == null ? null : task.resourcesJMap().get(GPU);
        List<String> taskGpus = gpus == null ? List.of() : Arrays.asList(gpus.addresses());
        SparkEnv env = SparkEnv.get();
        boolean clusterExecutor = task != null && env != null
                && !DRIVER.equals(env.executorId());
        Set<String> settings = env == null ? Set.of() : Stream.of(EXECUTOR_AMOUNT, TASK_AMOUNT, DISCOVERY_SCRIPT)
                .filter(env.conf()::contains).collect(Collectors.toSet());
        return new Placement(taskGpus, clusterExecutor, settings, executorGpus);
    }
}
