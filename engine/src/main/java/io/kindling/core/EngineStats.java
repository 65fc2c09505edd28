package io.kindling.core;

/**
 * A snapshot of the engine's counters, for progress lines and benchmarks.
 *
 * @param promptTokens prompt tokens of the requests added
 * @param computedPromptTokens prompt tokens the model computed: fewer than {@code promptTokens} when prefix
 *     caching finds them cached, more when preempted sequences are recomputed
 * @param kvCache KV cache accounting
 * @param numSteps steps that ran a batch
 * @param scheduledSeqs sequences those steps ran, summed over the steps: with {@code numSteps}, the mean batch
 */
public record EngineStats(int numRunning, int numWaiting, long promptTokens, long generationTokens,
                          long numPreemptions, int numBlocks, int numFreeBlocks, int blockSize,
                          long kvCacheBytesPerBlock, long computedPromptTokens, KvCacheStats kvCache,
                          long numSteps, long scheduledSeqs) {

    /** Counters without prefill and KV accounting. */
    public EngineStats(int numRunning, int numWaiting, long promptTokens, long generationTokens,
                       long numPreemptions, int numBlocks, int numFreeBlocks, int blockSize,
                       long kvCacheBytesPerBlock) {
        this(numRunning, numWaiting, promptTokens, generationTokens, numPreemptions, numBlocks, numFreeBlocks,
                blockSize, kvCacheBytesPerBlock, 0, KvCacheStats.NONE, 0, 0);
    }

    /** Sequences a step ran, on average over the steps between {@code since} and this snapshot (0 if none ran). */
    public double meanBatchSince(EngineStats since) {
        long steps = numSteps - since.numSteps;
        return steps == 0 ? 0 : (double) (scheduledSeqs - since.scheduledSeqs) / steps;
    }

    /** Fraction of blocks referenced by running sequences; free cached blocks count as free. */
    public double kvCacheUsage() {
        return numBlocks == 0 ? 0 : (double) (numBlocks - numFreeBlocks) / numBlocks;
    }
}
