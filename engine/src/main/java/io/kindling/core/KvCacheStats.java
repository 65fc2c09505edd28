package io.kindling.core;

/**
 * KV cache accounting over an engine's life, as the PagedAttention paper measures memory. "Sampled" sums add one
 * sample after every step, when each running sequence's blocks hold exactly its computed tokens.
 *
 * @param prefixCachingEnabled whether full blocks are cached and shared
 * @param numCachedBlocks blocks findable in the prefix cache now, referenced or free
 * @param peakUsedBlocks most blocks referenced at once (sampled at allocation, so slots reserved for the
 *     tokens of a step count)
 * @param sampledUsedSlots token slots holding K/V, summed over the samples; a shared block counts once
 * @param sampledAllocatedSlots slots of the referenced blocks, summed over the samples
 * @param queriedTokens tokens of the sequences looked up in the prefix cache at admission (again after a
 *     preemption)
 * @param hitTokens of those, the tokens found cached
 * @param sharedBlocks references beyond the first over all blocks now: blocks that sharing saves
 * @param peakSharedBlocks the most {@code sharedBlocks} of any sample
 * @param sampledSharedBlocks {@code sharedBlocks} summed over the samples
 * @param sampledAllocatedBlocks referenced blocks summed over the samples
 */
public record KvCacheStats(boolean prefixCachingEnabled, int numCachedBlocks, int peakUsedBlocks,
                           long sampledUsedSlots, long sampledAllocatedSlots, long queriedTokens, long hitTokens,
                           int sharedBlocks, int peakSharedBlocks, long sampledSharedBlocks,
                           long sampledAllocatedBlocks) {

    /** Nothing measured. */
    public static final KvCacheStats NONE = new KvCacheStats(false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /**
     * The paper's waste: the share of allocated token slots that hold no K/V, over the run. With paged blocks it
     * is the internal fragmentation of each sequence's last block; 0 when nothing was sampled.
     */
    public double waste() {
        return sampledAllocatedSlots == 0 ? 0 : 1.0 - (double) sampledUsedSlots / sampledAllocatedSlots;
    }

    /** Hit tokens over queried tokens; 0 when nothing was queried. */
    public double prefixCacheHitRate() {
        return queriedTokens == 0 ? 0 : (double) hitTokens / queriedTokens;
    }

    /**
     * The paper's memory saving by sharing, over the run: blocks saved over the blocks that the same tables would
     * take without sharing.
     */
    public double sharingSaving() {
        long unshared = sampledAllocatedBlocks + sampledSharedBlocks;
        return unshared == 0 ? 0 : (double) sampledSharedBlocks / unshared;
    }
}
