package io.kindling.spark.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kindling.backend.BackendUnavailableException;
import io.kindling.core.EngineConfigException;
import io.kindling.runtime.BoundDevice;
import io.kindling.runtime.BundledModel;
import io.kindling.runtime.EngineKey;
import java.util.List;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

class DeviceBindingTest {

    private static final String LOCAL_REASON = "Spark assigned no GPU to this task or executor, as in local mode, "
            + "where the driver runs the tasks and schedules no GPUs to them; so the default CUDA device";

    private static final String HOW_TO_SET = " Set spark.executor.resource.gpu.amount=1, "
            + "spark.task.resource.gpu.amount=0.25 (four concurrent tasks share the executor's engine) and "
            + "spark.executor.resource.gpu.discoveryScript to a script printing the GPU addresses, such as "
            + "examples/gpu/getGpusResources.sh (on standalone workers: spark.worker.resource.gpu.amount and "
            + "spark.worker.resource.gpu.discoveryScript); or name a device with spark.kindling.device=cuda:N";

    private static DeviceBinding.Placement clusterTask(List<String> taskGpus, Set<String> settings,
                                                       List<String> executorGpus) {
        return new DeviceBinding.Placement(taskGpus, true, settings, executorGpus);
    }

    private static final Set<String> ALL_SETTINGS = Set.of(DeviceBinding.EXECUTOR_AMOUNT, DeviceBinding.TASK_AMOUNT,
            DeviceBinding.DISCOVERY_SCRIPT);

    @Test
    void cudaBindsToTheTasksFirstGpuAddress() {
        BoundDevice b = DeviceBinding.resolve("cuda", 1, clusterTask(List.of("2", "3"), ALL_SETTINGS,
                List.of("0", "1", "2", "3")));
        assertEquals("cuda:2", b.device());
        assertEquals("GPU address 2 that Spark assigned to this task", b.reason());
    }

    @Test
    void tensorParallelRanksBindToTheTasksFirstAddressesOneARank() {
        BoundDevice b = DeviceBinding.resolve("cuda", 2, clusterTask(List.of("2", "3", "5"), ALL_SETTINGS,
                List.of("0", "1", "2", "3", "5")));
        assertEquals("cuda:2,3", b.device());
        assertEquals("GPU addresses 2,3 that Spark assigned to this task", b.reason());
    }

    @Test
    void tensorParallelRanksWithTooFewTaskGpusNameTheTaskAmountToSet() {
        EngineConfigException e = assertThrows(EngineConfigException.class, () -> DeviceBinding.resolve("cuda", 2,
                clusterTask(List.of("1"), ALL_SETTINGS, List.of("0", "1"))));
        assertEquals("tensor_parallel_size", e.setting());
        assertEquals("2 needs 2 GPUs for one engine, but it has 1 (1), that Spark assigned to this task: set "
                + "spark.task.resource.gpu.amount=2",
                e.problem());
    }

    @Test
    void tasksSharingAFractionalGpuGetTheSameDeviceAndSoTheSameEngineKey() {
        EngineKey configured = BundledModel.key(BundledModel.DIR.toString(), "cuda", 8);
        EngineKey first = configured.withDevice(DeviceBinding.resolve("cuda", 1,
                clusterTask(List.of("1"), ALL_SETTINGS, List.of("1"))).device());
        EngineKey second = configured.withDevice(DeviceBinding.resolve("cuda", 1,
                clusterTask(List.of("1"), ALL_SETTINGS, List.of("1"))).device());
        EngineKey otherGpu = configured.withDevice(DeviceBinding.resolve("cuda", 1,
                clusterTask(List.of("0"), ALL_SETTINGS, List.of())).device());
        assertEquals(first, second);
        assertEquals("cuda:1", first.engine().device());
        assertEquals("cuda:0", otherGpu.engine().device());
    }

    @Test
    void tasksTheDriverRunsGetTheDefaultCudaDevice() {
        BoundDevice b = DeviceBinding.resolve("cuda", 1, new DeviceBinding.Placement(List.of(), false, Set.of(),
                List.of()));
        assertEquals("cuda", b.device());
        assertEquals(LOCAL_REASON, b.reason());
    }

    @Test
    void aClusterTaskWithoutGpuNamesEverySettingItLacks() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> DeviceBinding.resolve("cuda", 1, clusterTask(List.of(), Set.of(), List.of())));
        assertEquals("spark.kindling.device=cuda, but Spark assigned no GPU to this task: "
                + "spark.executor.resource.gpu.amount, spark.task.resource.gpu.amount, "
                + "spark.executor.resource.gpu.discoveryScript are not set." + HOW_TO_SET, e.getMessage());
    }

    @Test
    void aClusterTaskWithoutGpuOnAGpuExecutorNamesTheMissingTaskAmount() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> DeviceBinding.resolve("cuda", 1, clusterTask(List.of(),
                        Set.of(DeviceBinding.EXECUTOR_AMOUNT, DeviceBinding.DISCOVERY_SCRIPT), List.of("0", "1"))));
        assertEquals("spark.kindling.device=cuda, but Spark assigned no GPU to this task (its executor has GPUs "
                + "[0, 1]): spark.task.resource.gpu.amount is not set." + HOW_TO_SET, e.getMessage());
    }

    @Test
    void aClusterTaskWithoutGpuDespiteEverySettingPointsAtTheDiscoveryScript() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> DeviceBinding.resolve("cuda", 1, clusterTask(List.of(), ALL_SETTINGS, List.of())));
        assertEquals("spark.kindling.device=cuda, but Spark assigned no GPU to this task: "
                + "spark.executor.resource.gpu.amount, spark.task.resource.gpu.amount and "
                + "spark.executor.resource.gpu.discoveryScript are set: check that the discovery script prints this "
                + "host's GPU addresses; or name a device with spark.kindling.device=cuda:N", e.getMessage());
    }

    @Test
    void explicitDevicesAreKeptWhateverSparkAssigned() {
        for (String device : List.of("cuda:7", "cpu", "auto")) {
            for (DeviceBinding.Placement placement : List.of(clusterTask(List.of("0"), ALL_SETTINGS, List.of("0")),
                    clusterTask(List.of(), Set.of(), List.of()))) {
                BoundDevice b = DeviceBinding.resolve(device, 1, placement);
                assertEquals(device, b.device());
                assertEquals("as configured", b.reason());
            }
        }
    }

    @Test
    void inALocalModeTaskCudaIsTheDefaultDeviceEvenWithGpuSettings() {
        // Spark ignores executor GPU settings in local mode (a task GPU amount there would leave tasks unscheduled)
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("device-binding-test")
                .set("spark.ui.enabled", "false")
                .set(DeviceBinding.EXECUTOR_AMOUNT, "1");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            List<String> bindings = sc.parallelize(List.of(1, 2), 2).map(i -> {
                BoundDevice b = DeviceBinding.forCurrentTask("cuda", 1);
                return b.device() + " / " + b.reason();
            }).collect();
            assertEquals(List.of("cuda / " + LOCAL_REASON, "cuda / " + LOCAL_REASON), bindings);
        }
    }
}
