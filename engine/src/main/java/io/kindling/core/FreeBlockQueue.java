package io.kindling.core;

/**
 * The free blocks, an intrusive doubly-linked list through {@link KvCacheBlock#prevFree}/{@code nextFree} with
 * fake head and tail nodes, so popping, appending and removing from the middle are O(1) and allocate nothing.
 * The front is the next block handed out: freed blocks go to the back, so the least recently freed is reused
 * first: the eviction order of the prefix cache, least recently used first.
 */
final class FreeBlockQueue {

    private final KvCacheBlock head = new KvCacheBlock(-1);
    private final KvCacheBlock tail = new KvCacheBlock(-1);
    private int size;

    /** A queue holding {@code blocks} in the given order. */
    FreeBlockQueue(KvCacheBlock[] blocks) {
        head.nextFree = tail;
        tail.prevFree = head;
        for (KvCacheBlock b : blocks) {
            append(b);
        }
    }

    int size() {
        return size;
    }

    /** Removes and returns the front block. */
    KvCacheBlock popLeft() {
        if (size == 0) {
            throw new IllegalStateException("no free KV cache blocks");
        }
        KvCacheBlock b = head.nextFree;
        remove(b);
        return b;
    }

    /** Unlinks {@code b}, which must be in this queue. */
    void remove(KvCacheBlock b) {
        if (b.prevFree == null || b.nextFree == null) {
            throw new IllegalStateException(b + " is not in the free queue");
        }
        b.prevFree.nextFree = b.nextFree;
        b.nextFree.prevFree = b.prevFree;
        b.prevFree = null;
        b.nextFree = null;
        size--;
    }

    /** Adds {@code b}, which must not be queued, at the back. */
    void append(KvCacheBlock b) {
        if (b.prevFree != null || b.nextFree != null) {
            throw new IllegalStateException(b + " is already in the free queue");
        }
        KvCacheBlock last = tail.prevFree;
        last.nextFree = b;
        b.prevFree = last;
        b.nextFree = tail;
        tail.prevFree = b;
        size++;
    }
}
