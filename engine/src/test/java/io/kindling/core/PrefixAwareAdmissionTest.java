package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertSame;

import io.kindling.sampling.SamplingParams;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class PrefixAwareAdmissionTest {

    private final Sequence head = seq("head");
    private final Sequence cold = seq("cold");
    private final Sequence warm1 = seq("warm1");
    private final Sequence warm2 = seq("warm2");
    private final Sequence warm3 = seq("warm3");
    private final Predicate<Sequence> warm = Set.of(warm1, warm2, warm3)::contains;

    @Test
    void theFirstWarmSequenceInTheWindowGoesFirstAndTheHeadAfterMaxSkips() {
        PrefixAwareAdmission admission = new PrefixAwareAdmission(8, 2);
        Deque<Sequence> waiting = new ArrayDeque<>(List.of(head, cold, warm1, warm2, warm3));

        assertSame(warm1, admit(admission, waiting));
        assertSame(warm2, admit(admission, waiting));
        assertSame(head, admit(admission, waiting)); // skipped twice
        // a new head starts with no skips
        assertSame(warm3, admit(admission, waiting));
        assertSame(cold, admit(admission, waiting));
    }

    @Test
    void onlyTheLookAheadWindowIsSearched() {
        Deque<Sequence> waiting = new ArrayDeque<>(List.of(head, cold, warm1));
        assertSame(head, new PrefixAwareAdmission(2, 8).next(waiting, warm));
        assertSame(warm1, new PrefixAwareAdmission(3, 8).next(waiting, warm));
    }

    @Test
    void aWarmHeadGoesFirst() {
        Deque<Sequence> waiting = new ArrayDeque<>(List.of(warm2, cold, warm1));
        assertSame(warm2, PrefixAwareAdmission.defaults().next(waiting, warm));
    }

    @Test
    void aHeadThatIsNotAdmittedIsNotCountedAsSkipped() {
        PrefixAwareAdmission admission = new PrefixAwareAdmission(8, 1);
        Deque<Sequence> waiting = new ArrayDeque<>(List.of(head, warm1, warm2));
        // next() without an admission (the candidate did not fit) leaves the count alone
        assertSame(warm1, admission.next(waiting, warm));
        assertSame(warm1, admit(admission, waiting));
        assertSame(head, admit(admission, waiting));
    }

    private Sequence admit(PrefixAwareAdmission admission, Deque<Sequence> waiting) {
        Sequence next = admission.next(waiting, warm);
        waiting.remove(next);
        admission.admitted(next);
        return next;
    }

    private static Sequence seq(String id) {
        return new Sequence(id, 0, new int[] {1, 2, 3}, SamplingParams.greedy(1));
    }
}
