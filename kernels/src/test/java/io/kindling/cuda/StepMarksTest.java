package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.cuda.StepMarks.Op;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.Test;

/** How a failed call names where the host was in queuing a step; no GPU needed (an unarmed profiler marks nothing). */
class StepMarksTest {

    private static StepMarks marks(String device, int tensorParallelSize) {
        return new StepMarks(new OpProfiler(new CUfunction()), new CUstream(),
                CudaDevices.parse(device, tensorParallelSize));
    }

    @Test
    void oneGpuNamesTheOpAlone() {
        StepMarks marks = marks("cuda:0", 1);
        assertEquals("starting a step", marks.describe());
        marks.at(0, Op.O_PROJ, 3);
        assertEquals("o_proj of layer 3", marks.describe());
    }

    @Test
    void anExchangeNamesTheRankItHasReachedNotTheOneThatBeganIt() {
        StepMarks marks = marks("cuda:2,5,7", 3);
        marks.at(0, Op.DOWN_ALL_REDUCE, 4);
        assertEquals("down_proj all-reduce of layer 4 on rank 0 (cuda:2)", marks.describe());
        marks.on(2);
        assertEquals("down_proj all-reduce of layer 4 on rank 2 (cuda:7)", marks.describe());
    }

    @Test
    void ranksSharingACardAreToldApartByRank() {
        StepMarks marks = marks("cuda:0,0", 2);
        marks.at(0, Op.BROADCAST_INPUT_IDS, -1);
        marks.on(1);
        assertEquals("copying the sampled input ids to the other ranks on rank 1 (cuda:0)", marks.describe());
    }
}
