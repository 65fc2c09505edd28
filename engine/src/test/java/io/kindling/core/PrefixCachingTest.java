package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The prefix cache over a pool of 11 blocks of 4 tokens, in the style of vLLM's
 * {@code tests/v1/core/test_prefix_caching.py}: exact block ids, reference counts and free-queue order.
 */
class PrefixCachingTest {

    private static final int BLOCK_SIZE = 4;
    /** Three full blocks every test prompt starts with. */
    private static final int[] COMMON = IntStream.range(0, 12).toArray();

    private BlockPool pool = new BlockPool(11, BLOCK_SIZE);
    private KvCacheManager manager = new KvCacheManager(pool, true);

    @Test
    void aSecondPromptSharesTheCommonBlocksAndFreedBlocksQueueTailFirst() {
        Sequence a = seq("a", COMMON, 100, 101);
        assertEquals(0, admit(a).numTokens());
        assertArrayEquals(new int[] {0, 1, 2, 3}, a.blockTable());
        assertEquals(3, pool.numCachedBlocks()); // the partial block 3 is not cached

        Sequence b = seq("b", COMMON, 200, 201, 202);
        KvCacheManager.ComputedBlocks hit = manager.getComputedBlocks(b);
        assertEquals(List.of(0, 1, 2), ids(hit.blocks()));
        assertEquals(12, hit.numTokens());
        admit(b);
        assertArrayEquals(new int[] {0, 1, 2, 4}, b.blockTable());
        assertEquals(List.of(2, 2, 2, 1, 1), refCnts(0, 1, 2, 3, 4));
        assertEquals(3, manager.stats().sharedBlocks());
        assertEquals(List.of(5, 6, 7, 8, 9, 10), FreeBlocks.ids(pool));

        manager.free(a);
        assertEquals(List.of(1, 1, 1, 0, 1), refCnts(0, 1, 2, 3, 4));
        assertEquals(0, manager.stats().sharedBlocks());
        manager.free(b);
        // each request's blocks join the back tail first, so a request's tail is evicted before its head
        assertEquals(List.of(5, 6, 7, 8, 9, 10, 3, 4, 2, 1, 0), FreeBlocks.ids(pool));
        assertEquals(3, pool.numCachedBlocks()); // freed, still findable

        // a miss of 9 blocks takes the front of the queue and so evicts cached block 2, the common prefix's tail
        Sequence c = seq("c", IntStream.range(500, 536).toArray());
        assertEquals(0, admit(c).numTokens());
        assertArrayEquals(new int[] {5, 6, 7, 8, 9, 10, 3, 4, 2}, c.blockTable());
        assertEquals(List.of(1, 0), FreeBlocks.ids(pool));

        manager.free(c);
        assertEquals(List.of(1, 0, 2, 4, 3, 10, 9, 8, 7, 6, 5), FreeBlocks.ids(pool));

        // the common prefix is found as far as the eviction left it: its free blocks leave the queue, and the
        // new ones come from its front
        Sequence d = seq("d", COMMON, 300);
        KvCacheManager.ComputedBlocks hitD = manager.getComputedBlocks(d);
        assertEquals(List.of(0, 1), ids(hitD.blocks()));
        assertTrue(manager.allocateSlots(d, 5, hitD));
        assertEquals(8, d.numComputedTokens());
        assertArrayEquals(new int[] {0, 1, 2, 4}, d.blockTable());
        assertEquals(List.of(1, 1, 1, 1), refCnts(0, 1, 2, 4));
        assertEquals(List.of(3, 10, 9, 8, 7, 6, 5), FreeBlocks.ids(pool));
    }

    @Test
    void aHitStopsAtTheFirstDifferingBlockEvenIfLaterBlocksMatch() {
        admit(seq("a", COMMON, 100));
        int[] differsInBlock1 = COMMON.clone();
        differsInBlock1[5] = 999;
        Sequence b = seq("b", differsInBlock1, 100);

        KvCacheManager.ComputedBlocks hit = manager.getComputedBlocks(b);

        // block 2's tokens equal a's block 2, but its K/V were computed after other tokens
        assertEquals(List.of(0), ids(hit.blocks()));
        assertEquals(4, hit.numTokens());
        admit(b);
        assertArrayEquals(new int[] {0, 4, 5, 6}, b.blockTable());
        assertEquals(List.of(2, 1, 1, 1), refCnts(0, 1, 2, 4));
    }

    @Test
    void aPromptCachedWholeStillComputesItsLastToken() {
        Sequence a = seq("a", COMMON);
        admit(a);
        assertEquals(3, pool.numCachedBlocks());

        // 12 tokens: the last is in block 2, so only blocks 0 and 1 are hits and block 2 is computed again
        Sequence b = seq("b", COMMON);
        KvCacheManager.ComputedBlocks hit = manager.getComputedBlocks(b);
        assertEquals(8, hit.numTokens());
        assertTrue(manager.allocateSlots(b, 4, hit));
        assertArrayEquals(new int[] {0, 1, 3}, b.blockTable());
        assertEquals(List.of(2, 2, 1, 1), refCnts(0, 1, 2, 3));
        assertEquals(3, pool.numCachedBlocks()); // block 3 duplicates cached block 2 and stays out of the cache

        // 13 tokens: all three full blocks are hits, the one token left is computed
        Sequence c = seq("c", COMMON, 7);
        hit = manager.getComputedBlocks(c);
        assertEquals(List.of(0, 1, 2), ids(hit.blocks()));
        assertTrue(manager.allocateSlots(c, 1, hit));
        assertArrayEquals(new int[] {0, 1, 2, 4}, c.blockTable());

        KvCacheStats stats = manager.stats();
        assertEquals(12 + 12 + 13, stats.queriedTokens());
        assertEquals(8 + 12, stats.hitTokens());
        assertEquals(20.0 / 37, stats.prefixCacheHitRate(), 1e-12);
    }

    @Test
    void sharedBlocksAreFreedOnlyWhenTheirLastHolderFreesThem() {
        Sequence a = seq("a", COMMON, 1, 2, 3, 4, 5); // blocks 0..4, 0..3 full
        Sequence b = seq("b", COMMON, 1, 2, 3, 4, 6);
        admit(a);
        admit(b);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, a.blockTable());
        assertArrayEquals(new int[] {0, 1, 2, 3, 5}, b.blockTable());
        assertEquals(List.of(2, 2, 2, 2, 1, 1), refCnts(0, 1, 2, 3, 4, 5));

        manager.free(b);
        assertEquals(List.of(1, 1, 1, 1, 1, 0), refCnts(0, 1, 2, 3, 4, 5));
        assertEquals(List.of(6, 7, 8, 9, 10, 5), FreeBlocks.ids(pool));

        // a third sharer takes the same blocks while a still holds them
        Sequence c = seq("c", COMMON, 1, 2, 3, 4, 6, 7);
        assertEquals(List.of(0, 1, 2, 3), ids(manager.getComputedBlocks(c).blocks()));
        admit(c);
        assertArrayEquals(new int[] {0, 1, 2, 3, 6}, c.blockTable());
        assertEquals(4, manager.stats().sharedBlocks());

        manager.free(a);
        manager.free(c);
        assertEquals(List.of(7, 8, 9, 10, 5, 4, 6, 3, 2, 1, 0), FreeBlocks.ids(pool));
        assertEquals(List.of(0, 0, 0, 0, 0, 0, 0), refCnts(0, 1, 2, 3, 4, 5, 6));
    }

    @Test
    void revivingFreeCachedBlocksNeedsRoomForThemAndAFailureChangesNothing() {
        Sequence a = seq("a", COMMON, 1); // blocks 0..3
        admit(a);
        manager.free(a);
        Sequence filler = seq("f", IntStream.range(600, 624).toArray()); // takes blocks 4..9
        admit(filler);
        assertEquals(List.of(10, 3, 2, 1, 0), FreeBlocks.ids(pool));

        // 3 hits (all free) + 3 new blocks for 21 tokens: 6 > 5 free
        Sequence b = seq("b", COMMON, IntStream.range(40, 49).toArray());
        KvCacheManager.ComputedBlocks hit = manager.getComputedBlocks(b);
        assertEquals(List.of(0, 1, 2), ids(hit.blocks()));
        assertFalse(manager.allocateSlots(b, 9, hit));
        assertEquals(0, b.numBlocks());
        assertEquals(0, b.numComputedTokens());
        assertEquals(List.of(10, 3, 2, 1, 0), FreeBlocks.ids(pool));
        assertEquals(List.of(0, 0, 0), refCnts(0, 1, 2));

        // 17 tokens fit: the 3 revived blocks and 2 new ones, from the front of the queue (evicting nothing cached)
        Sequence c = seq("c", COMMON, 40, 41, 42, 43, 44);
        assertTrue(manager.allocateSlots(c, 5, manager.getComputedBlocks(c)));
        assertArrayEquals(new int[] {0, 1, 2, 10, 3}, c.blockTable());
        assertEquals(List.of(), FreeBlocks.ids(pool));
    }

    @Test
    void aHashCollisionIsAMissNeverAWrongBlock() {
        // every block hashes alike: only the stored contents tell blocks apart
        manager = new KvCacheManager(pool, true, (parent, tokens, extra) -> 42);
        Sequence a = seq("a", COMMON, 1);
        admit(a);
        assertEquals(1, pool.numCachedBlocks()); // block 0 holds the hash; blocks 1 and 2 collide with it

        Sequence other = seq("o", new int[] {9, 9, 9, 9, 4, 5, 6, 7, 1});
        assertEquals(0, manager.getComputedBlocks(other).numTokens());
        assertFalse(manager.hasCachedPrefix(other));

        Sequence same = seq("s", COMMON, 1);
        assertEquals(List.of(0), ids(manager.getComputedBlocks(same).blocks()));
    }

    @Test
    void equalTokensAfterADifferentParentAreAMissEvenWithAnEqualHash() {
        // the hash ignores the parent, so equal blocks after different prefixes collide
        manager = new KvCacheManager(pool, true,
                (parent, tokens, extra) -> Arrays.hashCode(tokens));
        int[] x0 = {1, 2, 3, 4};
        int[] z0 = {5, 6, 7, 8};
        int[] x1 = {9, 10, 11, 12};
        admit(seq("z", concat(z0, x1), 0)); // block 1 caches x1 after z0
        admit(seq("a", concat(x0, x1), 0)); // block 3: x0; block 4's x1 collides with block 1 and stays uncached
        assertEquals(3, pool.numCachedBlocks());

        Sequence q = seq("q", concat(x0, x1), 0);
        KvCacheManager.ComputedBlocks hit = manager.getComputedBlocks(q);

        // block 1 has the right tokens and hash but was computed after z0: the parent check refuses it
        assertEquals(List.of(3), ids(hit.blocks()));
    }

    @Test
    void aCacheSaltKeepsEqualPromptsApart() {
        admit(salted("a", Optional.of("tenant-1")));
        assertEquals(0, manager.getComputedBlocks(salted("b", Optional.of("tenant-2"))).numTokens());
        assertEquals(0, manager.getComputedBlocks(salted("c", Optional.empty())).numTokens());
        assertEquals(12, manager.getComputedBlocks(salted("d", Optional.of("tenant-1"))).numTokens());
    }

    @Test
    void withCachingOffNothingIsFoundOrKept() {
        manager = new KvCacheManager(pool, false);
        Sequence a = seq("a", COMMON, 1);
        admit(a);
        assertEquals(0, pool.numCachedBlocks());
        assertEquals(KvCacheManager.ComputedBlocks.NONE, manager.getComputedBlocks(seq("b", COMMON, 1)));
        assertFalse(manager.hasCachedPrefix(seq("c", COMMON, 1)));
    }

    @Test
    void wasteCountsTheEmptySlotsOfAllocatedBlocksAndSharedBlocksOnce() {
        Sequence a = seq("a", COMMON, 1, 2);      // 14 tokens in 4 blocks: 2 slots empty
        Sequence b = seq("b", COMMON, 3, 4, 5);   // shares 3 blocks, 15 tokens: its own block has 1 slot empty
        admit(a);
        admit(b);
        manager.recordStep(List.of(a, b));

        KvCacheStats stats = manager.stats();
        assertEquals(12 + 2 + 3, stats.sampledUsedSlots());
        assertEquals(5 * 4, stats.sampledAllocatedSlots());
        assertEquals(1 - 17.0 / 20, stats.waste(), 1e-12);
        assertEquals(3, stats.peakSharedBlocks());
        assertEquals(3.0 / 8, stats.sharingSaving(), 1e-12); // 5 blocks instead of 8
        assertEquals(5, stats.peakUsedBlocks());

        manager.free(b);
        manager.recordStep(List.of(a));
        stats = manager.stats();
        assertEquals(17 + 14, stats.sampledUsedSlots());
        assertEquals(20 + 16, stats.sampledAllocatedSlots());
        assertEquals(3, stats.peakSharedBlocks());
        assertEquals(0, stats.sharedBlocks());
    }

    @Test
    void hashesDependOnTheWholePrefixAndTheSalt() {
        BlockHashFunction sha = BlockHashFunction.sha256();
        long h = sha.hash(BlockHashFunction.ROOT, new int[] {1, 2, 3, 4}, null);
        assertEquals(h, sha.hash(BlockHashFunction.ROOT, new int[] {1, 2, 3, 4}, null));
        assertNotEquals(h, sha.hash(1, new int[] {1, 2, 3, 4}, null));
        assertNotEquals(h, sha.hash(BlockHashFunction.ROOT, new int[] {1, 2, 3, 5}, null));
        assertNotEquals(h, sha.hash(BlockHashFunction.ROOT, new int[] {1, 2, 3, 4}, ""));
        assertNotEquals(h, sha.hash(BlockHashFunction.ROOT, new int[] {1, 2, 3}, null));
    }

    /** Admits {@code seq} from its cached prefix and computes all its tokens, as one step would. */
    private KvCacheManager.ComputedBlocks admit(Sequence seq) {
        KvCacheManager.ComputedBlocks hit = manager.getComputedBlocks(seq);
        int numNew = seq.numTokens() - hit.numTokens();
        assertTrue(manager.allocateSlots(seq, numNew, hit), "no room for " + seq);
        seq.addComputedTokens(numNew);
        return hit;
    }

    private static Sequence seq(String id, int[] head, int... tail) {
        return new Sequence(id, 0, concat(head, tail), SamplingParams.greedy(4));
    }

    private static Sequence salted(String id, Optional<String> salt) {
        return new Sequence(id, 0, concat(COMMON, new int[] {1}), SamplingParams.greedy(4), salt);
    }

    private static int[] concat(int[] a, int[] b) {
        return IntStream.concat(Arrays.stream(a), Arrays.stream(b)).toArray();
    }

    private List<Integer> refCnts(int... blockIds) {
        return Arrays.stream(blockIds).mapToObj(id -> pool.block(id).refCnt).toList();
    }

    private static List<Integer> ids(List<KvCacheBlock> blocks) {
        return blocks.stream().map(b -> b.blockId).toList();
    }
}
