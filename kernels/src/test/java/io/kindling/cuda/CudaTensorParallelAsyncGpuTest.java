package io.kindling.cuda;

import io.kindling.core.EngineConfig;
import io.kindling.testing.Fixtures;

/**
 * {@link CudaAsyncSchedulingGpuTest}'s contract over two tensor-parallel ranks ({@code cuda:0,0}, or
 * {@code -Dkindling.tpDevices}): the sampled ids that the next step reads on the device go from rank 0 to the other
 * rank by a peer copy, forks and beams copy KV blocks on every rank, and every step runs eagerly.
 */
class CudaTensorParallelAsyncGpuTest extends CudaAsyncSchedulingGpuTest {

    @Override
    protected EngineConfig config() {
        return CudaTensorParallelGpuTest.split(Fixtures.checkpoint("llama3-tiny"));
    }
}
