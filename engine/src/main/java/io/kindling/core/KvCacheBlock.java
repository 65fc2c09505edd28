package io.kindling.core;

/**
 * Metadata of one physical KV cache block: its id (the index into every layer's K/V storage), how many block
 * tables hold it, and its links in the {@link FreeBlockQueue} while it is free. Prefix caching will add the hash
 * of the block's tokens here; a free block keeps it until the block is reused (lazy eviction).
 */
final class KvCacheBlock {

    final int blockId;
    int refCnt;

    // free queue links, null while the block is not queued
    KvCacheBlock prevFree;
    KvCacheBlock nextFree;

    KvCacheBlock(int blockId) {
        this.blockId = blockId;
    }

    @Override
    public String toString() {
        return "KvCacheBlock(" + blockId + ", refCnt=" + refCnt + ")";
    }
}
