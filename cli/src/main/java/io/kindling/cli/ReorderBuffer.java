package io.kindling.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Holds results that complete out of order until every earlier one is in, then releases them in index order. */
final class ReorderBuffer<T> {

    private final Map<Long, T> waiting = new HashMap<>();
    private long next;

    /** A buffer whose first result has index {@code first}. */
    ReorderBuffer(long first) {
        this.next = first;
    }

    void put(long index, T item) {
        if (index < next || waiting.putIfAbsent(index, item) != null) {
            throw new IllegalStateException("result " + index + " was already completed");
        }
    }

    /** The results that are now next in order, possibly none. */
    List<T> poll() {
        List<T> ready = new ArrayList<>();
        for (T item; (item = waiting.remove(next)) != null; next++) {
            ready.add(item);
        }
        return ready;
    }

    /** How many results have been released so far: the index of the next one to release. */
    long released() {
        return next;
    }

    int held() {
        return waiting.size();
    }
}
