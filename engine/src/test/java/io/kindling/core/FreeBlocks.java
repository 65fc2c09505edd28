package io.kindling.core;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/** The free queue's block ids, front (handed out next) first, read through the blocks' own links. */
final class FreeBlocks {

    private FreeBlocks() {
    }

    static List<Integer> ids(BlockPool pool) {
        return ids(IntStream.range(0, pool.numBlocks()).mapToObj(pool::block).toList());
    }

    /** The ids of the queue that holds any of {@code blocks}; empty when none is queued. */
    static List<Integer> ids(List<KvCacheBlock> blocks) {
        for (KvCacheBlock queued : blocks) {
            if (queued.prevFree != null) {
                KvCacheBlock head = queued;
                while (head.prevFree != null) {
                    head = head.prevFree;
                }
                List<Integer> ids = new ArrayList<>();
                for (KvCacheBlock b = head.nextFree; b.nextFree != null; b = b.nextFree) {
                    ids.add(b.blockId);
                }
                return ids;
            }
        }
        return List.of();
    }
}
