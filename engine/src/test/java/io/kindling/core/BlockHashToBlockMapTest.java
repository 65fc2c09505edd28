package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class BlockHashToBlockMapTest {

    @Test
    void findsAndRemovesBlocksThatShareABucket() {
        BlockHashToBlockMap map = new BlockHashToBlockMap(3); // 4 buckets: hashes 1, 5 and 9 share one
        KvCacheBlock[] blocks = new KvCacheBlock[3];
        for (int i = 0; i < 3; i++) {
            blocks[i] = new KvCacheBlock(i);
            blocks[i].blockHash = 1 + 4 * i;
            map.put(blocks[i]);
        }
        for (int i = 0; i < 3; i++) {
            assertSame(blocks[i], map.get(1 + 4 * i));
        }
        assertNull(map.get(13));

        map.remove(blocks[1]); // the middle of the chain, then its head and its last
        assertNull(map.get(5));
        assertSame(blocks[0], map.get(1));
        assertSame(blocks[2], map.get(9));
        map.remove(blocks[2]);
        map.remove(blocks[0]);
        assertNull(map.get(1));
        assertEquals(0, map.size());

        map.put(blocks[1]);
        assertSame(blocks[1], map.get(5));
        assertEquals(1, map.size());
    }
}
