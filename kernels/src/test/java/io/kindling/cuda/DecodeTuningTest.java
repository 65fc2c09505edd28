package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The decode tunings the kernels exist for, and a context's split (no GPU needed). */
class DecodeTuningTest {

    @Test
    void theTensorCoreLoopHasKernelsForTwoOrFourWarpsAndTwoOrThreeStagesOnly() {
        for (int warps : new int[] {2, 4}) {
            for (int stages : new int[] {2, 3}) {
                new DecodeTuning(warps, stages, 512, 64, true, true);
            }
        }
        IllegalArgumentException warps = assertThrows(IllegalArgumentException.class,
                () -> new DecodeTuning(8, 2, 512, 64, true, true));
        assertTrue(warps.getMessage().contains("8 warps"), warps.getMessage());
        IllegalArgumentException stages = assertThrows(IllegalArgumentException.class,
                () -> new DecodeTuning(2, 4, 512, 64, true, true));
        assertTrue(stages.getMessage().contains("4 stages"), stages.getMessage());
        new DecodeTuning(8, 4, 512, 64, true, false);  // the CUDA-core loop has them
    }

    @Test
    void partitionsUpToTheKernelsLimit() {
        assertThrows(IllegalArgumentException.class,
                () -> new DecodeTuning(2, 2, 256, AttentionPlan.MAX_PARTITIONS + 1, true, true));
        DecodeTuning most = new DecodeTuning(2, 2, 256, AttentionPlan.MAX_PARTITIONS, true, true);
        assertEquals(AttentionPlan.MAX_PARTITIONS, most.partitions(32768), "32k keys in 256-key partitions");
        assertEquals(AttentionPlan.MAX_PARTITIONS, most.partitions(1 << 20), "longer contexts: longer partitions");
        assertEquals(2, most.partitions(257));
    }

    @Test
    void namesItsKeyLoop() {
        assertEquals("w2 s2 p1024 m32 heads tc", new DecodeTuning(2, 2, 1024, 32, true, true).toString());
        assertEquals("w4 s3 p512 m64 items", new DecodeTuning(4, 3, 512, 64, false, false).toString());
    }
}
