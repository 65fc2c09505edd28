package io.kindling.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kindling.core.EngineConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

class BoundDeviceTest {

    private static final String ASSIGNER = "Flink's GPU plugin gave this TaskManager";
    private static final String AMOUNT = "external-resource.gpu.amount";

    private static List<String> devices(String configured, int ranks, List<String> gpus) {
        return BoundDevice.choices(configured, ranks, gpus, ASSIGNER, AMOUNT).stream().map(BoundDevice::device)
                .toList();
    }

    @Test
    void cudaChoosesAmongEachGpuOrEachGroupOfRanksLeftoversUnused() {
        assertEquals(List.of("cuda:0", "cuda:1", "cuda:2"), devices("cuda", 1, List.of("0", "1", "2")));
        assertEquals(List.of("cuda:0,1", "cuda:2,3"), devices("cuda", 2, List.of("0", "1", "2", "3", "4")));
        assertEquals("GPU addresses 2,3 that " + ASSIGNER,
                BoundDevice.choices("cuda", 2, List.of("0", "1", "2", "3"), ASSIGNER, AMOUNT).get(1).reason());
    }

    @Test
    void otherDevicesStayAsConfiguredAndCudaWithoutGpusHasNoChoice() {
        assertEquals(List.of("cuda:3"), devices("cuda:3", 1, List.of("0", "1")));
        assertEquals(List.of("cpu"), devices("cpu", 2, List.of()));
        assertEquals(List.of(), devices("cuda", 1, List.of()));
    }

    @Test
    void tooFewGpusForOneEngineNameTheSettingThatGivesMore() {
        EngineConfigException e = assertThrows(EngineConfigException.class,
                () -> devices("cuda", 4, List.of("0", "1")));
        assertEquals("tensor_parallel_size", e.setting());
        assertEquals("4 needs 4 GPUs for one engine, but it has 2 (0, 1), that " + ASSIGNER + ": set " + AMOUNT
                + "=4", e.problem());
    }
}
