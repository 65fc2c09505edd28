package io.kindling.core;

/**
 * The prefix cache's index, block hash -> cached block (vLLM's {@code BlockHashToBlockMap}): a hash table chained
 * through the blocks themselves ({@link KvCacheBlock#nextInBucket}) over a fixed array of at least as many buckets
 * as the pool has blocks, since at most all of them are cached. So caching and evicting a block allocate nothing,
 * where a {@code HashMap} makes a node per entry and grows its table as the cache fills.
 */
final class BlockHashToBlockMap {

    private final KvCacheBlock[] buckets;
    private int size;

    BlockHashToBlockMap(int numBlocks) {
        int numBuckets = Integer.highestOneBit(Math.max(numBlocks, 1));
        buckets = new KvCacheBlock[numBuckets < numBlocks ? 2 * numBuckets : numBuckets];
    }

    /** The cached block under {@code hash}, or null. */
    KvCacheBlock get(long hash) {
        for (KvCacheBlock b = buckets[bucket(hash)]; b != null; b = b.nextInBucket) {
            if (b.blockHash == hash) {
                return b;
            }
        }
        return null;
    }

    /** Adds {@code block} under its {@link KvCacheBlock#blockHash}, which no block in the map has. */
    void put(KvCacheBlock block) {
        int i = bucket(block.blockHash);
        block.nextInBucket = buckets[i];
        buckets[i] = block;
        size++;
    }

    /** Removes {@code block}, which is in the map under its {@link KvCacheBlock#blockHash}. */
    void remove(KvCacheBlock block) {
        int i = bucket(block.blockHash);
        if (buckets[i] == block) {
            buckets[i] = block.nextInBucket;
        } else {
            KvCacheBlock before = buckets[i];
            while (before.nextInBucket != block) {
                before = before.nextInBucket;
            }
            before.nextInBucket = block.nextInBucket;
        }
        block.nextInBucket = null;
        size--;
    }

    int size() {
        return size;
    }

    /** The hashes are SHA-256 bits (or a test's), so their low bits spread the blocks evenly. */
    private int bucket(long hash) {
        return Long.hashCode(hash) & (buckets.length - 1);
    }
}
