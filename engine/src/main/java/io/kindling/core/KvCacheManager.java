package io.kindling.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The request-level view of the KV cache: grows and frees {@link Sequence} block tables over a
 * {@link BlockPool}, finds cached prefixes and keeps the KV accounting. The scheduler talks to this class only,
 * never to blocks.
 *
 * <p>Prefix caching, as vLLM v1: a full block is cached as soon as it is allocated for the tokens that fill it,
 * before the step computes them, so that a sequence admitted later in the same step already shares it. That is
 * safe because a backend writes the K/V of every token of a step before any attention of that step reads the
 * cache (each layer: all writes, then attention), and a sequence scheduled in a step is never preempted in it.
 */
final class KvCacheManager {

    /** The cached blocks a sequence starts from: {@code numTokens} tokens whose K/V need no computing. */
    record ComputedBlocks(List<KvCacheBlock> blocks, int numTokens) {

        static final ComputedBlocks NONE = new ComputedBlocks(List.of(), 0);

        ComputedBlocks {
            blocks = List.copyOf(blocks);
        }
    }

    private final BlockPool blockPool;
    private final int blockSize;
    private final boolean enablePrefixCaching;
    private final BlockHashFunction hashFunction;
    // accounting, see KvCacheStats
    private int peakUsedBlocks;
    private long queriedTokens;
    private long hitTokens;
    private long sampledUsedSlots;
    private long sampledAllocatedBlocks;
    private long sampledSharedBlocks;
    private int peakSharedBlocks;
    private final int[] sampleOfBlock;
    private int sampleNo;
    /** Copy-on-write copies made since the last {@link #takeBlocksToCopy}: pairs of block ids, src then dst. */
    private final IntList blocksToCopy = new IntList(8);
    private final int[] blockTokens;

    KvCacheManager(BlockPool blockPool, boolean enablePrefixCaching) {
        this(blockPool, enablePrefixCaching, BlockHashFunction.sha256());
    }

    /** @param hashFunction hashes full blocks for the prefix cache; tests inject colliding ones */
    KvCacheManager(BlockPool blockPool, boolean enablePrefixCaching, BlockHashFunction hashFunction) {
        this.blockPool = blockPool;
        this.blockSize = blockPool.blockSize();
        this.enablePrefixCaching = enablePrefixCaching;
        this.hashFunction = hashFunction;
        this.sampleOfBlock = new int[blockPool.numBlocks()];
        this.blockTokens = new int[blockSize];
    }

    /**
     * The longest run of cached full blocks that {@code seq}'s tokens start with, without taking them. It never
     * covers the last token: its logits must be computed, so a prompt cached whole still recomputes its last
     * block's worth of tokens, at least one.
     */
    ComputedBlocks getComputedBlocks(Sequence seq) {
        if (!enablePrefixCaching) {
            return ComputedBlocks.NONE;
        }
        int maxHitBlocks = (seq.numTokens() - 1) / blockSize;
        List<KvCacheBlock> hits = new ArrayList<>();
        long parent = KvCacheBlock.NO_PARENT;
        for (int i = 0; i < maxHitBlocks; i++) {
            Optional<KvCacheBlock> hit = cachedBlock(seq, i, parent);
            if (hit.isEmpty()) {
                break;
            }
            hits.add(hit.get());
            parent = hit.get().cacheId;
        }
        return new ComputedBlocks(hits, hits.size() * blockSize);
    }

    /** Whether {@link #getComputedBlocks} would find at least {@code seq}'s first block. */
    boolean hasCachedPrefix(Sequence seq) {
        return enablePrefixCaching && seq.numTokens() - 1 >= blockSize
                && cachedBlock(seq, 0, KvCacheBlock.NO_PARENT).isPresent();
    }

    private Optional<KvCacheBlock> cachedBlock(Sequence seq, int i, long parentCacheId) {
        updateBlockHashes(seq);
        return blockPool.getCachedBlock(seq.blockHash(i), parentCacheId, blockTokens(seq, i), extraKey(seq, i));
    }

    /** {@link #allocateSlots(Sequence, int, ComputedBlocks)} for a sequence that is already running. */
    boolean allocateSlots(Sequence seq, int numNewTokens) {
        return allocateSlots(seq, numNewTokens, ComputedBlocks.NONE);
    }

    /**
     * Makes {@code seq}'s block table cover its computed tokens, the cached ones it starts from (at admission,
     * from {@link #getComputedBlocks}) and {@code numNewTokens} more:
     * <pre>
     *   | numComputedTokens | newComputed | numNewTokens | rest of the last block |
     *   |<--------------- ceil((computed + new) / B) blocks ------------------>|
     * </pre>
     * The cached blocks are shared (their tokens count as computed), the rest are new; then every block the
     * step will have filled goes into the prefix cache.
     *
     * @return false, changing nothing, if there are not enough free blocks (reviving a free cached block uses one)
     */
    boolean allocateSlots(Sequence seq, int numNewTokens, ComputedBlocks newComputed) {
        List<KvCacheBlock> hits = newComputed.blocks();
        if (!hits.isEmpty() && seq.numBlocks() != 0) {
            throw new IllegalStateException("request " + seq.requestId() + " already has blocks; cached blocks "
                    + "attach only at admission");
        }
        int numComputed = seq.numComputedTokens() + newComputed.numTokens();
        int numRequired = ceilDiv(numComputed + numNewTokens, blockSize) - seq.numBlocks() - hits.size();
        int numRevived = 0;
        for (int i = 0; i < hits.size(); i++) { // no iterators: every running sequence allocates every step
            numRevived += hits.get(i).refCnt == 0 ? 1 : 0;
        }
        boolean copyOnWrite = numNewTokens > 0 && writesSharedBlock(seq);
        if (numRequired + numRevived + (copyOnWrite ? 1 : 0) > blockPool.numFreeBlocks()) {
            return false;
        }
        if (copyOnWrite) {
            copyLastBlock(seq);
        }
        if (seq.numBlocks() == 0) { // admission
            queriedTokens += seq.numTokens();
            hitTokens += newComputed.numTokens();
        }
        blockPool.touch(hits);
        for (int i = 0; i < hits.size(); i++) {
            seq.appendBlockId(hits.get(i).blockId);
        }
        if (!hits.isEmpty()) {
            seq.addComputedTokens(newComputed.numTokens());
            seq.setCachedPrefix(hits.size(), hits.get(hits.size() - 1).cacheId);
        }
        for (int i = 0; i < numRequired; i++) {
            seq.appendBlockId(blockPool.getNewBlock().blockId);
        }
        cacheFullBlocks(seq, numComputed + numNewTokens);
        peakUsedBlocks = Math.max(peakUsedBlocks, numUsedBlocks());
        return true;
    }

    /**
     * Whether the next token's slot lies in a block other sequences also hold. Only a partly filled last block can
     * be: full blocks are never written again, and a block another sequence found in the prefix cache is full.
     */
    private boolean writesSharedBlock(Sequence seq) {
        int next = seq.numComputedTokens();
        return next % blockSize != 0 && next / blockSize < seq.numBlocks()
                && blockPool.block(seq.blockId(next / blockSize)).refCnt > 1;
    }

    /**
     * Copy-on-write: gives {@code seq} a private copy of its shared last block and records the copy, which the
     * backend makes before the step's forward pass. The last holder then writes the original in place.
     */
    private void copyLastBlock(Sequence seq) {
        int i = seq.numBlocks() - 1;
        KvCacheBlock shared = blockPool.block(seq.blockId(i));
        KvCacheBlock copy = blockPool.getNewBlock();
        blockPool.freeBlocks(List.of(shared));
        seq.setBlockId(i, copy.blockId);
        blocksToCopy.add(shared.blockId);
        blocksToCopy.add(copy.blockId);
    }

    /**
     * Gives {@code child}, a {@link Sequence#fork} of {@code parent}, the same blocks: one more reference to each;
     * and the same cached prefix.
     */
    void fork(Sequence parent, Sequence child) {
        if (child.numBlocks() != 0) {
            throw new IllegalStateException("request " + child.requestId() + ": a fork starts with no blocks");
        }
        List<KvCacheBlock> shared = new ArrayList<>(parent.numBlocks());
        for (int i = 0; i < parent.numBlocks(); i++) {
            shared.add(blockPool.block(parent.blockId(i)));
            child.appendBlockId(parent.blockId(i));
        }
        blockPool.touch(shared);
        child.setCachedPrefix(parent.numCachedBlocks(), parent.cachedPrefixId());
    }

    /** Hands the copy-on-write copies made since the last call, as (src, dst) block id pairs, to the step; clears them. */
    void takeBlocksToCopy(SchedulerOutput out) {
        if (blocksToCopy.size() == 0) {
            return;
        }
        int[] src = new int[blocksToCopy.size() / 2];
        int[] dst = new int[src.length];
        for (int j = 0; j < src.length; j++) {
            src[j] = blocksToCopy.get(2 * j);
            dst[j] = blocksToCopy.get(2 * j + 1);
        }
        blocksToCopy.clear();
        out.setCopies(src, dst);
    }

    /** Puts {@code seq}'s blocks that the first {@code numTokens} tokens fill, not yet cached, into the cache. */
    private void cacheFullBlocks(Sequence seq, int numTokens) {
        // a block filled by a pending token is cached by a later allocation, once the token is known
        int numFull = Math.min(numTokens, seq.numKnownTokens()) / blockSize;
        if (!enablePrefixCaching || numFull <= seq.numCachedBlocks()) {
            return;
        }
        updateBlockHashes(seq);
        long parent = seq.cachedPrefixId();
        for (int i = seq.numCachedBlocks(); i < numFull; i++) {
            parent = blockPool.cacheBlock(blockPool.block(seq.blockId(i)), seq.blockHash(i), parent,
                    blockTokens(seq, i), extraKey(seq, i));
        }
        seq.setCachedPrefix(numFull, parent);
    }

    /** Extends {@code seq}'s chain of block hashes over its full blocks. */
    private void updateBlockHashes(Sequence seq) {
        for (int i = seq.numBlockHashes(); i < seq.numKnownTokens() / blockSize; i++) {
            long parent = i == 0 ? BlockHashFunction.ROOT : seq.blockHash(i - 1);
            seq.appendBlockHash(hashFunction.hash(parent, blockTokens(seq, i), extraKey(seq, i)));
        }
    }

    /**
     * Block {@code i}'s token ids, in a buffer that the next call overwrites: hashing and cache lookups only read
     * them, and the pool copies the ones it caches.
     */
    private int[] blockTokens(Sequence seq, int i) {
        seq.copyTokenIds(i * blockSize, blockTokens);
        return blockTokens;
    }

    /** The cache salt keys the first block; the chain carries it to the rest. */
    private static String extraKey(Sequence seq, int i) {
        return i == 0 ? seq.cacheSalt().orElse(null) : null;
    }

    /**
     * Releases {@code seq}'s blocks, last block first so that, among its cached blocks, tail blocks are evicted
     * first; and empties its table.
     */
    void free(Sequence seq) {
        List<KvCacheBlock> ordered = new ArrayList<>(seq.numBlocks());
        for (int i = seq.numBlocks() - 1; i >= 0; i--) {
            ordered.add(blockPool.block(seq.blockId(i)));
        }
        blockPool.freeBlocks(ordered);
        seq.clearBlockTable();
    }

    /**
     * Samples the KV accounting after a step, when every block of {@code running} (which holds all referenced
     * blocks) is filled up to its sequence's computed tokens: only the last block of each sequence has empty
     * slots. A block shared by several sequences counts once.
     */
    void recordStep(List<Sequence> running) {
        sampleNo++;
        long used = 0;
        if (blockPool.numSharedRefs() == 0) {
            // no block is shared: each sequence's blocks hold exactly its computed tokens, no walk over the tables
            for (int s = 0; s < running.size(); s++) { // by index: an iterator a step is an allocation
                used += running.get(s).numComputedTokens();
            }
        } else {
            for (int s = 0; s < running.size(); s++) {
                Sequence seq = running.get(s);
                for (int i = 0; i < seq.numBlocks(); i++) {
                    int id = seq.blockId(i);
                    if (blockPool.block(id).refCnt > 1) {
                        if (sampleOfBlock[id] == sampleNo) {
                            continue;
                        }
                        sampleOfBlock[id] = sampleNo;
                    }
                    used += Math.max(0, Math.min(blockSize, seq.numComputedTokens() - i * blockSize));
                }
            }
        }
        sampledUsedSlots += used;
        sampledAllocatedBlocks += numUsedBlocks();
        sampledSharedBlocks += blockPool.numSharedRefs();
        peakSharedBlocks = Math.max(peakSharedBlocks, blockPool.numSharedRefs());
    }

    KvCacheStats stats() {
        return new KvCacheStats(enablePrefixCaching, blockPool.numCachedBlocks(), peakUsedBlocks,
                sampledUsedSlots, sampledAllocatedBlocks * blockSize, queriedTokens, hitTokens,
                blockPool.numSharedRefs(), peakSharedBlocks, sampledSharedBlocks, sampledAllocatedBlocks);
    }

    /** Fraction of blocks in use, 0 to 1; free cached blocks count as free. */
    double usage() {
        return (double) numUsedBlocks() / blockPool.numBlocks();
    }

    private int numUsedBlocks() {
        return blockPool.numBlocks() - blockPool.numFreeBlocks();
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
