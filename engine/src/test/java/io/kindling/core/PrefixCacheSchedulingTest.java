package io.kindling.core;

import static io.kindling.core.SchedulerFixtures.referenceOutput;
import static io.kindling.core.SchedulerFixtures.sequence;
import static io.kindling.core.SchedulerFixtures.step;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The scheduler with prefix caching on: hits at admission, in the same step, after preemption; admission order. */
class PrefixCacheSchedulingTest {

    private static final int BLOCK_SIZE = 4;
    /** Two full blocks. */
    private static final int[] PREFIX = {1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008};

    private BlockPool pool;
    private KvCacheManager manager;
    private Scheduler scheduler;

    private void setUp(int numBlocks, SchedulerConfig config) {
        pool = new BlockPool(numBlocks, BLOCK_SIZE);
        manager = new KvCacheManager(pool, true);
        scheduler = SchedulerFixtures.scheduler(manager, config);
    }

    @Test
    void aPreemptedSequenceRecomputesOnlyWhatTheCacheLost() {
        setUp(4, SchedulerConfig.of(4, 64, 16));
        Sequence a = add(sequence(0, 7, SamplingParams.greedy(4)));
        Sequence b = add(sequence(1, 7, SamplingParams.greedy(4)));
        step(scheduler);
        step(scheduler);
        assertArrayEquals(new int[] {2, 3}, b.blockTable());

        // b goes, tail block first: a's third block is b's 3, which is evicted; b's first block 2 stays cached
        SchedulerOutput out = step(scheduler);
        assertEquals(List.of(b), out.preempted());
        assertArrayEquals(new int[] {0, 1, 3}, a.blockTable());
        assertEquals(List.of(2), FreeBlocks.ids(pool));

        // b's 9 tokens do not fit beside a (the hit on block 2 would take the last free block)
        assertEquals(List.of("req-0=1 sample"), describe(step(scheduler)));
        assertTrue(a.isFinished());

        // then b starts from its cached first block and computes 5 tokens, not 9
        assertEquals(List.of("req-1=5 sample"), describe(step(scheduler)));
        assertArrayEquals(new int[] {2, 3, 1}, b.blockTable());
        assertEquals(List.of("req-1=1 sample"), describe(step(scheduler)));
        assertArrayEquals(referenceOutput(a.promptTokenIds(), 4), a.outputTokenIds());
        assertArrayEquals(referenceOutput(b.promptTokenIds(), 4), b.outputTokenIds());
        assertEquals(7 + 7 + 3, scheduler.numComputedPromptTokens());
        assertEquals(4, manager.numFreeBlocks());
    }

    @Test
    void sequencesAdmittedInOneStepShareTheBlocksTheFirstOneComputes() {
        setUp(16, SchedulerConfig.of(4, 64, 64));
        Sequence a = add(new Sequence("a", 0, prompt(9), SamplingParams.greedy(3)));
        Sequence b = add(new Sequence("b", 1, prompt(9), SamplingParams.greedy(3)));
        Sequence c = add(new Sequence("c", 2, prompt(9), SamplingParams.greedy(3)));

        assertEquals(List.of("a=9 sample", "b=1 sample", "c=1 sample"), describe(step(scheduler)));
        assertArrayEquals(new int[] {0, 1, 2}, a.blockTable());
        assertArrayEquals(new int[] {0, 1, 3}, b.blockTable());
        assertArrayEquals(new int[] {0, 1, 4}, c.blockTable());
        assertEquals(3, pool.block(0).refCnt);
        assertEquals(11, scheduler.numComputedPromptTokens());
        assertEquals(16.0 / 27, manager.stats().prefixCacheHitRate(), 1e-12);

        while (scheduler.hasUnfinished()) {
            step(scheduler);
        }
        for (Sequence seq : List.of(a, b, c)) {
            assertArrayEquals(referenceOutput(prompt(9), 3), seq.outputTokenIds(), seq.toString());
        }
        assertEquals(16, manager.numFreeBlocks());
    }

    @Test
    void aWaitingSequenceWithACachedPrefixGoesAheadOfAColdHead() {
        setUp(32, SchedulerConfig.of(4, 9, 64));
        Sequence a1 = add(new Sequence("a1", 0, withSuffix(1), SamplingParams.greedy(2)));
        Sequence x = add(sequence(1, 9, SamplingParams.greedy(2)));
        Sequence a2 = add(new Sequence("a2", 2, withSuffix(2), SamplingParams.greedy(2)));

        assertEquals(List.of("a1=9 sample"), describe(step(scheduler)));
        // a2 starts with a1's cached blocks and needs 1 token: it goes before x, which is prefilled with the rest
        assertEquals(List.of("a1=1 sample", "a2=1 sample", "req-1=7"), describe(step(scheduler)));
        assertEquals(List.of("a2=1 sample", "req-1=2 sample"), describe(step(scheduler)));
        assertTrue(a1.isFinished());

        while (scheduler.hasUnfinished()) {
            step(scheduler);
        }
        assertArrayEquals(referenceOutput(a2.promptTokenIds(), 2), a2.outputTokenIds());
        assertArrayEquals(referenceOutput(x.promptTokenIds(), 2), x.outputTokenIds());
    }

    @Test
    void withCachingOffAdmissionIsFirstComeFirstServed() {
        pool = new BlockPool(32, BLOCK_SIZE);
        manager = new KvCacheManager(pool, false);
        scheduler = SchedulerFixtures.scheduler(manager, SchedulerConfig.of(4, 9, 64));
        add(new Sequence("a1", 0, withSuffix(1), SamplingParams.greedy(2)));
        add(sequence(1, 9, SamplingParams.greedy(2)));
        add(new Sequence("a2", 2, withSuffix(2), SamplingParams.greedy(2)));

        assertEquals(List.of("a1=9 sample"), describe(step(scheduler)));
        assertEquals(List.of("a1=1 sample", "req-1=8"), describe(step(scheduler)));
        assertFalse(manager.stats().prefixCachingEnabled());
        assertEquals(0, manager.stats().hitTokens());
    }

    private Sequence add(Sequence seq) {
        scheduler.add(seq);
        return seq;
    }

    private static int[] prompt(int length) {
        return IntStream.range(0, length).map(i -> PREFIX[i % PREFIX.length] + i / PREFIX.length).toArray();
    }

    private static int[] withSuffix(int token) {
        int[] p = Arrays.copyOf(PREFIX, PREFIX.length + 1);
        p[PREFIX.length] = token;
        return p;
    }

    private static List<String> describe(SchedulerOutput out) {
        return SchedulerFixtures.describe(out);
    }
}
