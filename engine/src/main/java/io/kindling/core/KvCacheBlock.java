package io.kindling.core;

/**
 * Metadata of one physical KV cache block: its id (the index into every layer's K/V storage), how many block
 * tables hold it, its links in the {@link FreeBlockQueue} while it is free and, while it is in the prefix cache,
 * what it holds. A cached block stays cached after its last holder frees it, until the pool hands it out again
 * (lazy eviction).
 */
final class KvCacheBlock {

    /** The {@link #parentCacheId} of a sequence's first block. */
    static final long NO_PARENT = 0;

    final int blockId;
    int refCnt;

    // free queue links, null while the block is not queued
    KvCacheBlock prevFree;
    KvCacheBlock nextFree;

    // prefix cache entry, set while the block is findable: cacheId != 0 (its token ids are in the BlockPool)
    long blockHash;
    /**
     * Never reused across cachings, so a child naming this id as its parent was computed on exactly this
     * content; hashes only find candidates, these ids and the token ids decide.
     */
    long cacheId;
    long parentCacheId;
    String extraKey;
    /** The next block in its {@link BlockHashToBlockMap} bucket, while cached. */
    KvCacheBlock nextInBucket;

    KvCacheBlock(int blockId) {
        this.blockId = blockId;
    }

    boolean isCached() {
        return cacheId != 0; // BlockPool hands out cache ids from 1
    }

    void resetCache() {
        blockHash = 0;
        cacheId = 0;
        parentCacheId = NO_PARENT;
        extraKey = null;
    }

    @Override
    public String toString() {
        return "KvCacheBlock(" + blockId + ", refCnt=" + refCnt + (isCached() ? ", cached" : "") + ")";
    }
}
