package io.kindling.core;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * All KV cache blocks, the queue of free ones and the prefix cache over them. A block is free exactly when its
 * {@code refCnt} is 0; blocks are handed out from the front of the queue and return to its back. A free block
 * may still be cached: it stays findable, and {@link #touch} takes it back out of the queue, until
 * {@link #getNewBlock} hands it out and evicts it. So the cache is LRU over the unreferenced blocks. Knows
 * nothing of requests: see {@link KvCacheManager}.
 */
final class BlockPool {

    private final KvCacheBlock[] blocks;
    private final int blockSize;
    /**
     * The token ids of each cached block's content, {@code blockSize} from {@code blockId * blockSize}: one array for
     * the pool, so caching a block allocates none (4 bytes a KV slot, less than an array per block once every block
     * has been cached).
     */
    private final int[] cachedTokenIds;
    private final FreeBlockQueue freeBlockQueue;
    private final BlockHashToBlockMap cachedBlocks;
    private long nextCacheId = KvCacheBlock.NO_PARENT + 1;
    private int numSharedRefs;

    /** A pool of {@code numBlocks} free blocks of {@code blockSize} tokens, queued in id order 0..N-1. */
    BlockPool(int numBlocks, int blockSize) {
        if (numBlocks <= 0) {
            throw new IllegalArgumentException("num_blocks must be positive, got " + numBlocks);
        }
        if (blockSize <= 0 || numBlocks > Integer.MAX_VALUE / blockSize) {
            throw new IllegalArgumentException(numBlocks + " blocks of " + blockSize + " tokens: block_size must be "
                    + "positive and the blocks hold at most 2^31 - 1 tokens");
        }
        this.blockSize = blockSize;
        cachedTokenIds = new int[numBlocks * blockSize];
        blocks = new KvCacheBlock[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            blocks[i] = new KvCacheBlock(i);
        }
        freeBlockQueue = new FreeBlockQueue(blocks);
        cachedBlocks = new BlockHashToBlockMap(numBlocks);
    }

    /**
     * Takes the block at the front of the free queue, with {@code refCnt} 1; one that was cached leaves the cache.
     * The caller has checked {@link #numFreeBlocks} for all the blocks it needs, so it takes all or none.
     */
    KvCacheBlock getNewBlock() {
        if (freeBlockQueue.size() == 0) {
            throw new IllegalStateException("asked for a KV cache block, none is free");
        }
        KvCacheBlock b = freeBlockQueue.popLeft();
        if (b.isCached()) {
            cachedBlocks.remove(b);
            b.resetCache();
        }
        b.refCnt = 1;
        return b;
    }

    /**
     * The cached block holding exactly this content: found by {@code hash}, then checked field by field, so a
     * hash collision is a miss, never a wrong block.
     *
     * @param parentCacheId the {@link KvCacheBlock#cacheId} of the block before it, or
     *     {@link KvCacheBlock#NO_PARENT}
     */
    Optional<KvCacheBlock> getCachedBlock(long hash, long parentCacheId, int[] tokenIds, String extraKey) {
        KvCacheBlock b = cachedBlocks.get(hash);
        return b != null && holds(b, parentCacheId, tokenIds, extraKey) ? Optional.of(b) : Optional.empty();
    }

    /**
     * Makes full, computed (or being computed this step) {@code block} findable under {@code hash}.
     *
     * @param tokenIds its {@code blockSize} token ids, read during the call only
     *
     * @return the cache id that now names this content, which the next block of the sequence gives as its
     *     parent: {@code block}'s own, or that of a block already caching the same content (then {@code block}
     *     stays uncached), or a fresh one that nothing can find if another content holds the hash (a collision:
     *     the rest of this chain is then not cached)
     */
    long cacheBlock(KvCacheBlock block, long hash, long parentCacheId, int[] tokenIds, String extraKey) {
        KvCacheBlock existing = cachedBlocks.get(hash);
        if (existing != null) {
            return holds(existing, parentCacheId, tokenIds, extraKey) ? existing.cacheId : nextCacheId++;
        }
        if (block.isCached()) {
            throw new IllegalStateException(block + " is already cached, under hash "
                    + Long.toHexString(block.blockHash));
        }
        if (tokenIds.length != blockSize) {
            throw new IllegalArgumentException("caching " + tokenIds.length + " token ids in a block of " + blockSize);
        }
        block.blockHash = hash;
        block.cacheId = nextCacheId++;
        block.parentCacheId = parentCacheId;
        System.arraycopy(tokenIds, 0, cachedTokenIds, block.blockId * blockSize, blockSize);
        block.extraKey = extraKey;
        cachedBlocks.put(block);
        return block.cacheId;
    }

    private boolean holds(KvCacheBlock b, long parentCacheId, int[] tokenIds, String extraKey) {
        int from = b.blockId * blockSize;
        return b.parentCacheId == parentCacheId
                && Arrays.equals(cachedTokenIds, from, from + blockSize, tokenIds, 0, tokenIds.length)
                && Objects.equals(b.extraKey, extraKey);
    }

    /**
     * Adds a reference to each block (a prefix hit; later, a fork), taking free ones out of the free queue, where
     * they were waiting to be evicted.
     */
    void touch(List<KvCacheBlock> shared) {
        for (int i = 0; i < shared.size(); i++) { // no iterator: a running sequence's every allocation passes here
            KvCacheBlock b = shared.get(i);
            if (b.refCnt == 0) {
                freeBlockQueue.remove(b);
            } else {
                numSharedRefs++;
            }
            b.refCnt++;
        }
    }

    /**
     * Drops one reference to each block; blocks left unreferenced join the back of the free queue in the order
     * given, so the first of them given is the first of them reused. Cached ones stay cached until then.
     */
    void freeBlocks(Iterable<KvCacheBlock> ordered) {
        for (KvCacheBlock b : ordered) {
            if (b.refCnt <= 0) {
                throw new IllegalStateException("freeing " + b + ", which is not in use");
            }
            if (b.refCnt > 1) {
                numSharedRefs--;
            }
            if (--b.refCnt == 0) {
                freeBlockQueue.append(b);
            }
        }
    }

    KvCacheBlock block(int blockId) {
        return blocks[blockId];
    }

    int numBlocks() {
        return blocks.length;
    }

    int blockSize() {
        return blockSize;
    }

    int numFreeBlocks() {
        return freeBlockQueue.size();
    }

    /** Blocks findable in the prefix cache, free or not. */
    int numCachedBlocks() {
        return cachedBlocks.size();
    }

    /**
     * References beyond the first, over all blocks: the blocks that sharing saves, since without it each of those
     * references would hold a copy.
     */
    int numSharedRefs() {
        return numSharedRefs;
    }
}
