package io.kindling.backend;

/**
 * What a backend needs to know of the engine's configuration: CPU threads, the ranks to split the model over
 * ({@link TensorParallelPlan}), and for a GPU the memory share and the step limits that bound its activation buffers
 * ({@link BatchLimits#AUTO}: the device's defaults).
 */
public record BackendOptions(int numThreads, double gpuMemoryUtilization, int maxNumSeqs, int maxNumBatchedTokens,
                             int blockSize, int tensorParallelSize) {

    public BatchLimits limits() {
        return new BatchLimits(maxNumSeqs, maxNumBatchedTokens);
    }

    /** These options with the step limits resolved against {@code defaults}. */
    public BackendOptions withLimitsOrDefaults(BatchLimits defaults) {
        BatchLimits resolved = limits().orDefaults(defaults);
        return new BackendOptions(numThreads, gpuMemoryUtilization, resolved.maxNumSeqs(),
                resolved.maxNumBatchedTokens(), blockSize, tensorParallelSize);
    }
}
