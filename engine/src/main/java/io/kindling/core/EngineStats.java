package io.kindling.core;

/** A snapshot of the engine's counters, for progress lines and benchmarks. */
public record EngineStats(int numRunning, int numWaiting, long promptTokens, long generationTokens,
                          long numPreemptions, int numBlocks, int numFreeBlocks, int blockSize,
                          long kvCacheBytesPerBlock) {

    public double kvCacheUsage() {
        return numBlocks == 0 ? 0 : (double) (numBlocks - numFreeBlocks) / numBlocks;
    }
}
