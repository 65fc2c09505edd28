package io.kindling.spark.runtime;

import java.io.Serializable;

/**
 * What identifies an executor's engine: the model as configured (a local path or a Hadoop FileSystem URI), the
 * device as configured ({@code auto}, {@code cpu}, {@code cuda}; {@code cuda} binds to the task's GPU), and the
 * engine options. Travels inside the physical plan to the executors.
 */
public record EngineKey(String model, String device, int maxNumSeqs, int maxNumBatchedTokens, int blockSize,
                        long kvCacheMemoryBytes, int numThreads, double gpuMemoryUtilization)
        implements Serializable {

    /** The same engine on another device: how {@code cuda} becomes the task's {@code cuda:N}. */
    EngineKey withDevice(String resolved) {
        return new EngineKey(model, resolved, maxNumSeqs, maxNumBatchedTokens, blockSize, kvCacheMemoryBytes,
                numThreads, gpuMemoryUtilization);
    }
}
