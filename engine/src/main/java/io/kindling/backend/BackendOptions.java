package io.kindling.backend;

/**
 * What a backend needs to know of the engine's configuration: CPU threads, and for a GPU the memory share and the
 * step limits that bound its activation buffers.
 */
public record BackendOptions(int numThreads, double gpuMemoryUtilization, int maxNumSeqs, int maxNumBatchedTokens,
                             int blockSize) {
}
