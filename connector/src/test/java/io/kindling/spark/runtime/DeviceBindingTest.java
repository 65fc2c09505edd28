package io.kindling.spark.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceBindingTest {

    @Test
    void cudaBindsToTheTasksFirstGpuAddress() {
        DeviceBinding b = DeviceBinding.resolve("cuda", List.of("2", "3"), List.of("0", "1", "2", "3"));
        assertEquals("cuda:2", b.device());
        assertEquals("GPU address 2 that Spark assigned to this task", b.reason());
    }

    @Test
    void tasksSharingAFractionalGpuGetTheSameDeviceAndSoTheSameEngineKey() {
        EngineKey configured = BundledModel.key(BundledModel.DIR.toString(), "cuda", 8);
        EngineKey first = configured.withDevice(DeviceBinding.resolve("cuda", List.of("1"), List.of("1")).device());
        EngineKey second = configured.withDevice(DeviceBinding.resolve("cuda", List.of("1"), List.of("1")).device());
        EngineKey otherGpu = configured.withDevice(DeviceBinding.resolve("cuda", List.of("0"), List.of()).device());
        assertEquals(first, second);
        assertEquals("cuda:1", first.engine().device());
        assertEquals("cuda:0", otherGpu.engine().device());
    }

    @Test
    void withoutATaskGpuCudaUsesTheExecutorsFirstGpu() {
        DeviceBinding b = DeviceBinding.resolve("cuda", List.of(), List.of("5", "6"));
        assertEquals("cuda:5", b.device());
        assertEquals("the executor's GPU address 5; Spark assigned no GPU to this task", b.reason());
    }

    @Test
    void withoutAnyAssignedGpuCudaStaysTheDefaultDevice() {
        assertEquals("cuda", DeviceBinding.resolve("cuda", List.of(), List.of()).device());
    }

    @Test
    void explicitDevicesAreKeptWhateverSparkAssigned() {
        for (String device : List.of("cuda:7", "cpu", "auto")) {
            DeviceBinding b = DeviceBinding.resolve(device, List.of("0"), List.of("0"));
            assertEquals(device, b.device());
            assertEquals("as configured", b.reason());
        }
    }
}
