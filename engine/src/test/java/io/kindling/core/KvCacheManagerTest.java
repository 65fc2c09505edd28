package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class KvCacheManagerTest {

    private static final int BLOCK_SIZE = 4;

    private final BlockPool pool = new BlockPool(10, BLOCK_SIZE);
    private final KvCacheManager manager = new KvCacheManager(pool, true);

    @Test
    void allocatesOnlyTheBlocksTheNewTokensNeed() {
        Sequence seq = sequence("a", 10);

        assertTrue(manager.allocateSlots(seq, 10));
        assertArrayEquals(new int[] {0, 1, 2}, seq.blockTable());
        seq.addComputedTokens(10);

        seq.appendTokenId(7);
        assertTrue(manager.allocateSlots(seq, 1)); // slot 10 is in block 2
        assertArrayEquals(new int[] {0, 1, 2}, seq.blockTable());
        seq.addComputedTokens(1);

        seq.appendTokenId(8);
        seq.appendTokenId(9);
        assertTrue(manager.allocateSlots(seq, 2)); // slots 11, 12
        assertArrayEquals(new int[] {0, 1, 2, 3}, seq.blockTable());
        assertEquals(6, manager.numFreeBlocks());
        assertEquals(0.4, manager.usage(), 1e-12);
        for (int id : seq.blockTable()) {
            assertEquals(1, pool.block(id).refCnt);
        }
    }

    @Test
    void freesTailBlocksFirstSoTheyAreReusedFirst() {
        Sequence a = sequence("a", 12);
        Sequence b = sequence("b", 8);
        manager.allocateSlots(a, 12); // 0 1 2
        manager.allocateSlots(b, 8);  // 3 4

        manager.free(a);
        assertEquals(0, a.numBlocks());
        assertEquals(List.of(5, 6, 7, 8, 9, 2, 1, 0), FreeBlocks.ids(pool));
        for (int id : new int[] {0, 1, 2}) {
            assertEquals(0, pool.block(id).refCnt);
        }

        Sequence c = sequence("c", 28);
        assertTrue(manager.allocateSlots(c, 28));
        assertArrayEquals(new int[] {5, 6, 7, 8, 9, 2, 1}, c.blockTable());
        assertEquals(List.of(0), FreeBlocks.ids(pool));
    }

    @Test
    void aFailedAllocationChangesNothing() {
        Sequence a = sequence("a", 32);
        assertTrue(manager.allocateSlots(a, 32)); // 0..7
        Sequence b = sequence("b", 9);

        assertFalse(manager.allocateSlots(b, 9)); // needs 3, 2 free
        assertEquals(0, b.numBlocks());
        assertEquals(List.of(8, 9), FreeBlocks.ids(pool));

        a.addComputedTokens(32);
        for (int i = 0; i < 9; i++) {
            a.appendTokenId(i);
        }
        assertFalse(manager.allocateSlots(a, 9)); // grows by 3, 2 free
        assertArrayEquals(IntStream.range(0, 8).toArray(), a.blockTable());
        assertEquals(List.of(8, 9), FreeBlocks.ids(pool));

        assertTrue(manager.allocateSlots(a, 8)); // exactly the 2 left
        assertEquals(0, manager.numFreeBlocks());
        assertEquals(1.0, manager.usage());
    }

    private static Sequence sequence(String id, int promptLen) {
        return new Sequence(id, 0, IntStream.range(100, 100 + promptLen).toArray(), SamplingParams.greedy(16));
    }
}
