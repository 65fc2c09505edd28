package io.kindling.core;

import java.util.ArrayList;
import java.util.List;

/**
 * All KV cache blocks and the queue of free ones. A block is free exactly when its {@code refCnt} is 0; blocks
 * are handed out from the front of the queue and return to its back. Knows nothing of requests: see
 * {@link KvCacheManager}.
 */
final class BlockPool {

    private final KvCacheBlock[] blocks;
    private final FreeBlockQueue freeBlockQueue;

    /** A pool of {@code numBlocks} free blocks, queued in id order 0..N-1. */
    BlockPool(int numBlocks) {
        if (numBlocks <= 0) {
            throw new IllegalArgumentException("num_blocks must be positive, got " + numBlocks);
        }
        blocks = new KvCacheBlock[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            blocks[i] = new KvCacheBlock(i);
        }
        freeBlockQueue = new FreeBlockQueue(blocks);
    }

    /** Takes {@code n} blocks from the front of the free queue, each with {@code refCnt} 1; all or nothing. */
    List<KvCacheBlock> getNewBlocks(int n) {
        if (n > freeBlockQueue.size()) {
            throw new IllegalStateException(
                    "asked for " + n + " KV cache blocks, only " + freeBlockQueue.size() + " are free");
        }
        List<KvCacheBlock> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            KvCacheBlock b = freeBlockQueue.popLeft();
            b.refCnt = 1;
            out.add(b);
        }
        return out;
    }

    /**
     * Drops one reference to each block; blocks left unreferenced join the back of the free queue in the order
     * given, so the first of them given is the first of them reused.
     */
    void freeBlocks(Iterable<KvCacheBlock> ordered) {
        for (KvCacheBlock b : ordered) {
            if (b.refCnt <= 0) {
                throw new IllegalStateException("freeing " + b + ", which is not in use");
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

    int numFreeBlocks() {
        return freeBlockQueue.size();
    }

    /** The free block ids, next to be handed out first. */
    List<Integer> freeBlockIds() {
        return freeBlockQueue.blockIds();
    }
}
