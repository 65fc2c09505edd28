package io.kindling.core;

import java.util.Deque;
import java.util.Iterator;
import java.util.function.Predicate;

/**
 * Which waiting sequence to admit next. Among the first {@code lookAhead} waiting sequences, the first whose
 * prompt starts with a cached block goes ahead of the queue's head: rows sharing a system prompt or a few-shot
 * template then run together while their prefix is cached, so it is computed once per engine, not evicted and
 * computed again. Since a block is cached as soon as it is allocated, admitting one row of a new prefix makes the
 * rest of its rows in the window eligible in the same step. Only the scheduling order changes; callers see their
 * outputs in their own order.
 *
 * <p>Fairness: once others have been admitted ahead of the same head {@code maxHeadSkips} times, the head goes
 * next. Without a cached prefix in the window this is first come, first served.
 */
final class PrefixAwareAdmission {

    static final int DEFAULT_LOOK_AHEAD = 64;
    static final int DEFAULT_MAX_HEAD_SKIPS = 64;

    private final int lookAhead;
    private final int maxHeadSkips;
    private Sequence head;
    private int headSkips;

    PrefixAwareAdmission(int lookAhead, int maxHeadSkips) {
        if (lookAhead <= 0 || maxHeadSkips < 0) {
            throw new IllegalArgumentException("look-ahead must be positive and max head skips >= 0, got "
                    + lookAhead + " and " + maxHeadSkips);
        }
        this.lookAhead = lookAhead;
        this.maxHeadSkips = maxHeadSkips;
    }

    static PrefixAwareAdmission defaults() {
        return new PrefixAwareAdmission(DEFAULT_LOOK_AHEAD, DEFAULT_MAX_HEAD_SKIPS);
    }

    /** The sequence to try next; {@code waiting} must not be empty. */
    Sequence next(Deque<Sequence> waiting, Predicate<Sequence> hasCachedPrefix) {
        Sequence first = waiting.getFirst();
        if (first != head) {
            head = first;
            headSkips = 0;
        }
        if (headSkips >= maxHeadSkips || hasCachedPrefix.test(first)) {
            return first;
        }
        Iterator<Sequence> it = waiting.iterator();
        it.next();
        for (int i = 1; i < lookAhead && it.hasNext(); i++) {
            Sequence seq = it.next();
            if (hasCachedPrefix.test(seq)) {
                return seq;
            }
        }
        return first;
    }

    /** Records that {@code seq}, from {@link #next}, was admitted. */
    void admitted(Sequence seq) {
        if (seq == head) {
            head = null;
        } else {
            headSkips++;
        }
    }
}
