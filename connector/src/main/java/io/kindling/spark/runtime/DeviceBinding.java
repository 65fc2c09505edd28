package io.kindling.spark.runtime;

import io.kindling.backend.BackendUnavailableException;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The device an engine runs on, as Spark's GPU scheduling decides it: a configured {@code cuda} becomes the GPU
 * address Spark assigned to the task ({@code cuda:<addr>}), else the executor's first GPU. With a fractional
 * {@code spark.task.resource.gpu.amount} several tasks get the same address, hence the same engine key and one
 * shared engine. {@code cuda:N}, {@code cpu} and {@code auto} are kept as configured.
 *
 * @param configured the device as configured
 * @param device the device the engine is started on
 * @param reason why {@code device} was chosen, for error messages
 */
record DeviceBinding(String configured, String device, String reason) {

    static final String GPU = "gpu";

    /** The executor's GPU addresses, as the executor plugin saw them at start-up. */
    private static volatile List<String> executorGpus = List.of();

    static void recordExecutorGpus(List<String> addresses) {
        executorGpus = List.copyOf(addresses);
    }

    /** Binds {@code configured} for the task running on this thread (none on the driver). */
    static DeviceBinding forCurrentTask(String configured) {
        TaskContext task = TaskContext.get();
        ResourceInformation gpus = task == null ? null : task.resourcesJMap().get(GPU);
        List<String> taskGpus = gpus == null ? List.of() : Arrays.asList(gpus.addresses());
        return resolve(configured, taskGpus, executorGpus);
    }

    static DeviceBinding resolve(String configured, List<String> taskGpus, List<String> executorGpus) {
        if (!configured.equals("cuda")) {
            return new DeviceBinding(configured, configured, "as configured");
        }
        if (!taskGpus.isEmpty()) {
            return new DeviceBinding(configured, "cuda:" + taskGpus.get(0),
                    "GPU address " + taskGpus.get(0) + " that Spark assigned to this task");
        }
        if (!executorGpus.isEmpty()) {
            return new DeviceBinding(configured, "cuda:" + executorGpus.get(0),
                    "the executor's GPU address " + executorGpus.get(0) + "; Spark assigned no GPU to this task");
        }
        return new DeviceBinding(configured, configured, "Spark assigned no GPU to this task or executor (set "
                + "spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount to bind one), so the "
                + "default CUDA device");
    }

    /** The backend's refusal, saying which GPU Spark's scheduling picked. */
    BackendUnavailableException explain(BackendUnavailableException e) {
        return new BackendUnavailableException("spark.kindling.device=" + configured + " bound to " + device
                + " (" + reason + "): " + e.getMessage());
    }
}
