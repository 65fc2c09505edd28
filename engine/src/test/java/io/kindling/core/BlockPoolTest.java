package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BlockPoolTest {

    private static final int BLOCK_SIZE = 4;

    @Test
    void handsOutBlocksInIdOrderWithOneReference() {
        BlockPool pool = new BlockPool(10, BLOCK_SIZE);
        List<KvCacheBlock> got = take(pool, 3);

        assertEquals(List.of(0, 1, 2), ids(got));
        got.forEach(b -> assertEquals(1, b.refCnt));
        assertEquals(List.of(3, 4, 5, 6, 7, 8, 9), FreeBlocks.ids(pool));
        assertEquals(7, pool.numFreeBlocks());
    }

    @Test
    void freedBlocksJoinTheTailInTheGivenOrderAndAreReusedInQueueOrder() {
        BlockPool pool = new BlockPool(6, BLOCK_SIZE);
        List<KvCacheBlock> a = take(pool, 3); // 0 1 2
        List<KvCacheBlock> b = take(pool, 2); // 3 4

        pool.freeBlocks(List.of(a.get(2), a.get(1), a.get(0)));
        pool.freeBlocks(List.of(b.get(1)));
        assertEquals(List.of(5, 2, 1, 0, 4), FreeBlocks.ids(pool));
        assertEquals(0, a.get(0).refCnt);

        assertEquals(List.of(5, 2, 1, 0), ids(take(pool, 4)));
        assertEquals(List.of(4), FreeBlocks.ids(pool));
    }

    @Test
    void askingWhenNoneIsFreeFails() {
        BlockPool pool = new BlockPool(2, BLOCK_SIZE);
        take(pool, 2);

        IllegalStateException e = assertThrows(IllegalStateException.class, pool::getNewBlock);
        assertEquals("asked for a KV cache block, none is free", e.getMessage());
    }

    @Test
    void freeingAFreeBlockIsRejected() {
        BlockPool pool = new BlockPool(2, BLOCK_SIZE);
        assertThrows(IllegalStateException.class, () -> pool.freeBlocks(List.of(pool.block(1))));
        assertEquals(List.of(0, 1), FreeBlocks.ids(pool));
    }

    @Test
    void freeQueueRemovesFromTheMiddleAndAppendsAtTheBack() {
        KvCacheBlock[] blocks = {new KvCacheBlock(0), new KvCacheBlock(1), new KvCacheBlock(2), new KvCacheBlock(3)};
        FreeBlockQueue queue = new FreeBlockQueue(blocks);

        queue.remove(blocks[2]);
        assertEquals(List.of(0, 1, 3), FreeBlocks.ids(List.of(blocks)));
        assertEquals(0, queue.popLeft().blockId);
        queue.append(blocks[2]);
        queue.append(blocks[0]);
        assertEquals(List.of(1, 3, 2, 0), FreeBlocks.ids(List.of(blocks)));
        assertEquals(4, queue.size());

        assertThrows(IllegalStateException.class, () -> queue.append(blocks[1]));
        queue.remove(blocks[1]);
        assertThrows(IllegalStateException.class, () -> queue.remove(blocks[1]));
        assertEquals(List.of(3, 2, 0), FreeBlocks.ids(List.of(blocks)));
    }

    @Test
    void popFromAnEmptyQueueFails() {
        FreeBlockQueue queue = new FreeBlockQueue(new KvCacheBlock[0]);
        assertThrows(IllegalStateException.class, queue::popLeft);
    }

    private static List<KvCacheBlock> take(BlockPool pool, int n) {
        List<KvCacheBlock> blocks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            blocks.add(pool.getNewBlock());
        }
        return blocks;
    }

    private static List<Integer> ids(List<KvCacheBlock> blocks) {
        return blocks.stream().map(b -> b.blockId).toList();
    }
}
