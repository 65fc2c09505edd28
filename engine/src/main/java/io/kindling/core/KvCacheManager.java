package io.kindling.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The request-level view of the KV cache: grows and frees {@link Sequence} block tables over a
 * {@link BlockPool}. The scheduler talks to this class only, never to blocks.
 */
final class KvCacheManager {

    private final BlockPool blockPool;
    private final int blockSize;

    KvCacheManager(BlockPool blockPool, int blockSize) {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block_size must be positive, got " + blockSize);
        }
        this.blockPool = blockPool;
        this.blockSize = blockSize;
    }

    /**
     * Makes {@code seq}'s block table cover its computed tokens plus {@code numNewTokens} more:
     * <pre>
     *   | numComputedTokens | numNewTokens | rest of the last block |
     *   |<---------- ceil((computed + new) / B) blocks ---------->|
     * </pre>
     *
     * @return false, changing nothing, if there are not enough free blocks
     */
    boolean allocateSlots(Sequence seq, int numNewTokens) {
        int numRequired = ceilDiv(seq.numComputedTokens() + numNewTokens, blockSize) - seq.numBlocks();
        if (numRequired > blockPool.numFreeBlocks()) {
            return false;
        }
        if (numRequired > 0) {
            for (KvCacheBlock b : blockPool.getNewBlocks(numRequired)) {
                seq.appendBlockId(b.blockId);
            }
        }
        return true;
    }

    /** Releases {@code seq}'s blocks, last block first so tail blocks are reused first, and empties its table. */
    void free(Sequence seq) {
        List<KvCacheBlock> ordered = new ArrayList<>(seq.numBlocks());
        for (int i = seq.numBlocks() - 1; i >= 0; i--) {
            ordered.add(blockPool.block(seq.blockId(i)));
        }
        blockPool.freeBlocks(ordered);
        seq.clearBlockTable();
    }

    /** Fraction of blocks in use, 0 to 1. */
    double usage() {
        return 1.0 - (double) blockPool.numFreeBlocks() / blockPool.numBlocks();
    }

    int numFreeBlocks() {
        return blockPool.numFreeBlocks();
    }

    int numBlocks() {
        return blockPool.numBlocks();
    }

    int blockSize() {
        return blockSize;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
