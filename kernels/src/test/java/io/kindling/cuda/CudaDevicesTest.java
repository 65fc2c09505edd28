package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.EngineConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

class CudaDevicesTest {

    @Test
    void cudaIsTheFirstGpuOfEachRank() {
        assertEquals(List.of(0), CudaDevices.parse("cuda", 1).ordinals());
        assertEquals(List.of(0, 1, 2, 3), CudaDevices.parse("cuda", 4).ordinals());
    }

    @Test
    void aListNamesOneGpuARankInRankOrder() {
        assertEquals(List.of(3), CudaDevices.parse("cuda:3", 1).ordinals());
        assertEquals(List.of(2, 0), CudaDevices.parse("cuda:2,0", 2).ordinals());
        assertEquals("cuda:2,0", CudaDevices.parse("cuda:2,0", 2).toString());
        assertEquals("cuda:0", CudaDevices.parse("cuda", 1).toString());
    }

    @Test
    void ranksMayShareAGpu() {
        CudaDevices devices = CudaDevices.parse("cuda:0,0,1", 3);
        assertEquals(List.of(0, 0, 1), devices.ordinals());
        assertEquals(2, devices.ranksOn(0));
        assertEquals(1, devices.ranksOn(1));
    }

    @Test
    void whatRanksHoldIsAddedOverTheRanksOnOneGpu() {
        CudaDevices devices = CudaDevices.parse("cuda:0,1,0", 3);
        long[] weights = {3, 5, 7};
        assertEquals(10, devices.onGpuOf(0, weights));
        assertEquals(5, devices.onGpuOf(1, weights));
        assertEquals(10, devices.onGpuOf(2, weights));
        assertEquals(3, CudaDevices.parse("cuda:0", 1).onGpuOf(0, new long[] {3}));
    }

    @Test
    void onlyCudaSpellingsAreCudaDevices() {
        assertTrue(CudaDevices.isCudaDevice("cuda"));
        assertTrue(CudaDevices.isCudaDevice("cuda:1"));
        assertTrue(CudaDevices.isCudaDevice("cuda:0,1"));
        assertFalse(CudaDevices.isCudaDevice("cuda:"));
        assertFalse(CudaDevices.isCudaDevice("cuda:0,"));
        assertFalse(CudaDevices.isCudaDevice("cuda:0;1"));
        assertFalse(CudaDevices.isCudaDevice("cpu"));
        assertThrows(IllegalArgumentException.class, () -> CudaDevices.parse("cuda:x", 1));
        assertThrows(IllegalArgumentException.class, () -> CudaDevices.parse("cuda:99999999999", 1));
    }

    @Test
    void aListOfAnotherLengthThanTheRanksIsRefusedNamingTheOption() {
        EngineConfigException one = assertThrows(EngineConfigException.class, () -> CudaDevices.parse("cuda:1", 2));
        assertEquals("tensor_parallel_size", one.setting());
        assertEquals("tensor_parallel_size: 2 needs one GPU a rank, but device cuda:1 names 1: name 2, e.g. "
                + "cuda:1,2, or use device cuda for GPUs 0 to 1", one.getMessage());
        EngineConfigException three = assertThrows(EngineConfigException.class,
                () -> CudaDevices.parse("cuda:0,1,2", 2));
        assertEquals("tensor_parallel_size: 2 needs one GPU a rank, but device cuda:0,1,2 names 3 (in rank order): "
                + "name 2, e.g. cuda:0,1, or use device cuda for GPUs 0 to 1", three.getMessage());
    }
}
