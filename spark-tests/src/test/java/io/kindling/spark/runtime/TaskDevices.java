package io.kindling.spark.runtime;

/** The spark-tests' view of {@link DeviceBinding}, which the connector keeps package-private. */
public final class TaskDevices {

    private TaskDevices() {
    }

    /**
     * The device an engine configured with {@code configured} and {@code tensor_parallel_size} {@code ranks} starts
     * on for the task running on this thread.
     */
    public static String bind(String configured, int ranks) {
        return DeviceBinding.forCurrentTask(configured, ranks).device();
    }
}
