package io.kindling.core;

import static io.kindling.core.SchedulerFixtures.EOS;
import static io.kindling.core.SchedulerFixtures.referenceOutput;
import static io.kindling.core.SchedulerFixtures.sequence;
import static io.kindling.core.SchedulerFixtures.step;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

class SchedulerTest {

    private static final int BLOCK_SIZE = 4;

    private BlockPool pool;
    private KvCacheManager manager;
    private Scheduler scheduler;

    private void setUp(int numBlocks, SchedulerConfig config, int... eosTokenIds) {
        setUp(true, numBlocks, config, eosTokenIds);
    }

    private void setUp(boolean enablePrefixCaching, int numBlocks, SchedulerConfig config, int... eosTokenIds) {
        pool = new BlockPool(numBlocks, BLOCK_SIZE);
        manager = new KvCacheManager(pool, enablePrefixCaching);
        scheduler = new Scheduler(config, manager, eosTokenIds.length == 0 ? new int[] {EOS} : eosTokenIds);
    }

    @Test
    void aLongPromptIsPrefilledInChunksWithinTheTokenBudget() {
        setUp(16, SchedulerConfig.of(4, 8, 64));
        Sequence a = add(0, 20, SamplingParams.greedy(3));

        assertEquals(List.of("req-0=8"), describe(step(scheduler)));
        assertEquals(8, a.numComputedTokens());
        assertArrayEquals(new int[] {0, 1}, a.blockTable());
        assertEquals(List.of("req-0=8"), describe(step(scheduler)));
        assertArrayEquals(new int[] {0, 1, 2, 3}, a.blockTable());
        assertEquals(0, a.numOutputTokens());

        assertEquals(List.of("req-0=4 sample"), describe(step(scheduler)));
        assertEquals(1, a.numOutputTokens());
        assertEquals(20, a.numComputedTokens());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, a.blockTable());

        assertEquals(List.of("req-0=1 sample"), describe(step(scheduler)));
        assertEquals(List.of("req-0=1 sample"), describe(step(scheduler)));
        assertEquals(FinishReason.LENGTH, a.finishReason().orElseThrow());
        assertArrayEquals(referenceOutput(a.promptTokenIds(), 3), a.outputTokenIds());
        assertEquals(16, manager.numFreeBlocks());
        assertFalse(scheduler.hasUnfinished());
    }

    @Test
    void decodesAndAChunkedPrefillShareOneStep() {
        setUp(16, SchedulerConfig.of(4, 10, 64));
        add(0, 4, SamplingParams.greedy(8));
        assertEquals(List.of("req-0=4 sample"), describe(step(scheduler)));
        add(1, 12, SamplingParams.greedy(8));

        assertEquals(List.of("req-0=1 sample", "req-1=9"), describe(step(scheduler)));
        assertEquals(List.of("req-0=1 sample", "req-1=3 sample"), describe(step(scheduler)));
        assertEquals(List.of("req-0=1 sample", "req-1=1 sample"), describe(step(scheduler)));
    }

    @Test
    void theLongPrefillThresholdSplitsTheBudgetBetweenPrompts() {
        setUp(16, new SchedulerConfig(4, 10, 64, OptionalInt.of(4)));
        add(0, 10, SamplingParams.greedy(8));
        add(1, 10, SamplingParams.greedy(8));

        assertEquals(List.of("req-0=4", "req-1=4"), describe(step(scheduler)));
        assertEquals(List.of("req-0=4", "req-1=4"), describe(step(scheduler)));
        assertEquals(List.of("req-0=2 sample", "req-1=2 sample"), describe(step(scheduler)));
    }

    @Test
    void noMoreThanMaxNumSeqsRun() {
        setUp(16, SchedulerConfig.of(2, 100, 64));
        Sequence a = add(0, 3, SamplingParams.greedy(1));
        add(1, 3, SamplingParams.greedy(3));
        add(2, 3, SamplingParams.greedy(3));

        assertEquals(List.of("req-0=3 sample", "req-1=3 sample"), describe(step(scheduler)));
        assertEquals(FinishReason.LENGTH, a.finishReason().orElseThrow());
        assertEquals(1, scheduler.numRunning());
        assertEquals(1, scheduler.numWaiting());
        assertEquals(List.of("req-1=1 sample", "req-2=3 sample"), describe(step(scheduler)));
    }

    @Test
    void whenBlocksRunOutTheNewestIsPreemptedAndLaterRecomputed() {
        setUp(false, 4, SchedulerConfig.of(4, 64, 16)); // PrefixCacheSchedulingTest: the same with caching on
        Sequence a = add(0, 7, SamplingParams.greedy(4));
        Sequence b = add(1, 7, SamplingParams.greedy(4));
        assertEquals(List.of("req-0=7 sample", "req-1=7 sample"), describe(step(scheduler)));
        assertArrayEquals(new int[] {2, 3}, b.blockTable());
        assertEquals(List.of("req-0=1 sample", "req-1=1 sample"), describe(step(scheduler)));

        // a's 9th token needs a third block: b goes, tail block first, and a takes block 3
        SchedulerOutput out = step(scheduler);
        assertEquals(List.of("req-0=1 sample"), describe(out));
        assertEquals(List.of(b), out.preempted());
        assertArrayEquals(new int[] {0, 1, 3}, a.blockTable());
        assertEquals(SequenceStatus.WAITING, b.status());
        assertEquals(0, b.numComputedTokens());
        assertEquals(0, b.numBlocks());
        assertEquals(2, b.numOutputTokens());
        assertEquals(1, b.numPreemptions());
        assertEquals(1, scheduler.numPreemptions());

        // b does not fit until a finishes; then its prompt and both outputs are computed again
        assertEquals(List.of("req-0=1 sample"), describe(step(scheduler)));
        assertTrue(a.isFinished());
        assertEquals(List.of("req-1=9 sample"), describe(step(scheduler)));
        assertEquals(List.of("req-1=1 sample"), describe(step(scheduler)));
        assertEquals(FinishReason.LENGTH, b.finishReason().orElseThrow());
        assertArrayEquals(referenceOutput(a.promptTokenIds(), 4), a.outputTokenIds());
        assertArrayEquals(referenceOutput(b.promptTokenIds(), 4), b.outputTokenIds());
        assertEquals(4, manager.numFreeBlocks());
    }

    @Test
    void aSequenceThatIsItselfTheNewestPreemptsItselfAndTheStepGoesOn() {
        setUp(4, SchedulerConfig.of(4, 64, 16));
        Sequence a = add(0, 7, SamplingParams.greedy(4));
        Sequence b = add(1, 8, SamplingParams.greedy(4));
        step(scheduler);

        SchedulerOutput out = step(scheduler);
        assertEquals(List.of("req-0=1 sample"), describe(out));
        assertEquals(List.of(b), out.preempted());
        assertEquals(List.of(3, 2), FreeBlocks.ids(pool));
        assertEquals(2, a.numOutputTokens());
        assertEquals(1, scheduler.numWaiting());
    }

    @Test
    void eosStopsAndFreesTheBlocks() {
        setUp(16, SchedulerConfig.of(4, 64, 64), EOS, 3);
        Sequence a = add(0, 5, SamplingParams.greedy(10));
        Sequence b = add(1, 5, SamplingParams.greedy(10));
        runToCompletion(seq -> seq.numOutputTokens() == 2 ? (seq == a ? EOS : 3) : 40);

        assertArrayEquals(new int[] {40, 40, EOS}, a.outputTokenIds());
        assertArrayEquals(new int[] {40, 40, 3}, b.outputTokenIds());
        assertEquals(FinishReason.STOP, a.finishReason().orElseThrow());
        assertEquals(FinishReason.STOP, b.finishReason().orElseThrow());
        assertEquals(16, manager.numFreeBlocks());
    }

    @Test
    void ignoreEosRunsToMaxTokens() {
        setUp(16, SchedulerConfig.of(4, 64, 64));
        Sequence a = add(0, 5, SamplingParams.builder().maxTokens(4).ignoreEos(true).build());
        runToCompletion(seq -> EOS);

        assertArrayEquals(new int[] {EOS, EOS, EOS, EOS}, a.outputTokenIds());
        assertEquals(FinishReason.LENGTH, a.finishReason().orElseThrow());
    }

    @Test
    void eosAndStopTokensDoNotStopBeforeMinTokens() {
        setUp(16, SchedulerConfig.of(4, 64, 64));
        Sequence a = add(0, 5, SamplingParams.builder().maxTokens(10).minTokens(3).build());
        Sequence b = add(1, 5, SamplingParams.builder().maxTokens(10).minTokens(2).stopTokenIds(List.of(77)).build());
        runToCompletion(seq -> seq == a ? EOS : 77);

        assertArrayEquals(new int[] {EOS, EOS, EOS}, a.outputTokenIds());
        assertArrayEquals(new int[] {77, 77}, b.outputTokenIds());
        assertEquals(FinishReason.STOP, a.finishReason().orElseThrow());
        assertEquals(FinishReason.STOP, b.finishReason().orElseThrow());
    }

    @Test
    void stopTokenIdsStopOnlyTheirOwnRequest() {
        setUp(16, SchedulerConfig.of(4, 64, 64));
        Sequence a = add(0, 5, SamplingParams.builder().maxTokens(3).stopTokenIds(List.of(77)).build());
        Sequence b = add(1, 5, SamplingParams.greedy(3));
        runToCompletion(seq -> seq.numOutputTokens() == 1 ? 77 : 40);

        assertArrayEquals(new int[] {40, 77}, a.outputTokenIds());
        assertEquals(FinishReason.STOP, a.finishReason().orElseThrow());
        assertArrayEquals(new int[] {40, 77, 40}, b.outputTokenIds());
        assertEquals(FinishReason.LENGTH, b.finishReason().orElseThrow());
    }

    @Test
    void lengthLimitsWinOverEosOnTheSameToken() {
        setUp(16, SchedulerConfig.of(4, 64, 64));
        Sequence a = add(0, 5, SamplingParams.greedy(2));
        runToCompletion(seq -> seq.numOutputTokens() == 1 ? EOS : 40);

        assertArrayEquals(new int[] {40, EOS}, a.outputTokenIds());
        assertEquals(FinishReason.LENGTH, a.finishReason().orElseThrow());
    }

    @Test
    void aFullContextEndsTheSequence() {
        setUp(16, SchedulerConfig.of(4, 64, 8));
        Sequence a = add(0, 6, SamplingParams.greedy(16));
        runToCompletion(seq -> 40);

        assertEquals(8, a.numTokens());
        assertEquals(FinishReason.LENGTH, a.finishReason().orElseThrow());
    }

    @Test
    void finishRemovesRunningAndWaitingSequences() {
        setUp(16, SchedulerConfig.of(1, 64, 64));
        Sequence a = add(0, 5, SamplingParams.greedy(8));
        Sequence b = add(1, 5, SamplingParams.greedy(8));
        step(scheduler);

        assertTrue(scheduler.finish(b, FinishReason.STOP));
        assertEquals(0, scheduler.numWaiting());
        assertTrue(scheduler.finish(a, FinishReason.STOP));
        assertEquals(0, scheduler.numRunning());
        assertEquals(16, manager.numFreeBlocks());
        assertEquals(0, a.numBlocks());
        assertFalse(scheduler.finish(a, FinishReason.LENGTH));
        assertEquals(FinishReason.STOP, a.finishReason().orElseThrow());
        assertTrue(scheduler.schedule().isEmpty());
    }

    @Test
    void aSequenceFinishedBetweenScheduleAndPostprocessIsSkipped() {
        setUp(16, SchedulerConfig.of(4, 64, 64));
        Sequence a = add(0, 3, SamplingParams.greedy(8));
        Sequence b = add(1, 3, SamplingParams.greedy(8));
        SchedulerOutput out = scheduler.schedule();
        scheduler.finish(a, FinishReason.STOP);

        assertEquals(List.of(b), SchedulerFixtures.postprocess(scheduler, out, 41, 42));
        assertEquals(0, a.numOutputTokens());
        assertArrayEquals(new int[] {42}, b.outputTokenIds());
        assertEquals(3, b.numComputedTokens());
    }

    @Test
    void aTokenFollowsOnlyASequenceWhoseTokensAreAllComputed() {
        setUp(16, SchedulerConfig.of(4, 64, 64));
        Sequence a = add(0, 3, SamplingParams.greedy(8));
        SchedulerOutput out = scheduler.schedule();
        assertThrows(IllegalStateException.class, () -> scheduler.append(a, 1)); // its prompt is not computed yet
        assertEquals(List.of(a), scheduler.postprocess(out));
        scheduler.append(a, 1);
        assertThrows(IllegalStateException.class, () -> scheduler.append(a, 2)); // token 1 is not computed yet
    }

    @Test
    void rejectsPromptsLongerThanTheContext() {
        setUp(16, SchedulerConfig.of(4, 64, 8));
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> scheduler.add(sequence(0, 9, SamplingParams.greedy(1))));
        assertEquals("req-0", e.requestId());
    }

    private Sequence add(long seqId, int promptLen, SamplingParams params) {
        Sequence seq = sequence(seqId, promptLen, params);
        scheduler.add(seq);
        return seq;
    }

    private void runToCompletion(ToIntFunction<Sequence> model) {
        for (int i = 0; i < 100 && scheduler.hasUnfinished(); i++) {
            step(scheduler, model);
        }
        assertFalse(scheduler.hasUnfinished());
    }

    /** "req-0=8" for 8 scheduled tokens; " sample" when the step samples the sequence's next token. */
    private static List<String> describe(SchedulerOutput out) {
        return SchedulerFixtures.describe(out);
    }
}
