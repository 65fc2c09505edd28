package io.kindling.core;

/**
 * A snapshot of the engine's counters, for progress lines and benchmarks.
 *
 * @param promptTokens prompt tokens of the requests added
 * @param computedPromptTokens prompt tokens the model computed: fewer than {@code promptTokens} when prefix
 *     caching finds them cached, more when preempted sequences are recomputed
 * @param kvCache KV cache accounting
 */
public record EngineStats(int numRunning, int numWaiting, long promptTokens, long generationTokens,
                          long numPreemptions, int numBlocks, int numFreeBlocks, int blockSize,
                          long kvCacheBytesPerBlock, long computedPromptTokens, KvCacheStats kvCache) {

    /** Counters without prefill and KV accounting. */
    public EngineStats(int numRunning, int numWaiting, long promptTokens, long generationTokens,
                       long numPreemptions, int numBlocks, int numFreeBlocks, int blockSize,
                       long kvCacheBytesPerBlock) {
        this(numRunning, numWaiting, promptTokens, generationTokens, numPreemptions, numBlocks, numFreeBlocks,
                blockSize, kvCacheBytesPerBlock, 0, KvCacheStats.NONE);
    }

    /** Fraction of blocks referenced by running sequences; free cached blocks count as free. */
    public double kvCacheUsage() {
        return numBlocks == 0 ? 0 : (double) (numBlocks - numFreeBlocks) / numBlocks;
    }
}
