package io.kindling.core;

import static io.kindling.core.SchedulerFixtures.referenceOutput;
import static io.kindling.core.SchedulerFixtures.sequence;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Many sequences arriving at random through a contended cache. Each step must respect the limits, and in the end
 * every sequence must hold exactly what the stand-in model gives its prompt alone: batching, chunking and
 * preemption may change when tokens are computed, never which.
 */
class SchedulerRandomizedTest {

    private static final int NUM_BLOCKS = 12;
    private static final int BLOCK_SIZE = 4;
    private static final int MAX_MODEL_LEN = 48;
    private static final SchedulerConfig CONFIG = SchedulerConfig.of(5, 16, MAX_MODEL_LEN);

    @Test
    void outputsMatchUnbatchedGenerationUnderPreemption() {
        Random random = new Random(7);
        KvCacheManager manager = new KvCacheManager(new BlockPool(NUM_BLOCKS), BLOCK_SIZE, true);
        Scheduler scheduler = SchedulerFixtures.scheduler(manager, CONFIG);
        List<Sequence> all = new ArrayList<>();

        for (int stepNo = 0; all.size() < 80 || scheduler.hasUnfinished(); stepNo++) {
            assertTrue(stepNo < 10_000, "no progress");
            for (int k = random.nextInt(3); k > 0 && all.size() < 80; k--) {
                Sequence seq = sequence(all.size(), 1 + random.nextInt(30), SamplingParams.greedy(1 + random.nextInt(20)));
                scheduler.add(seq);
                all.add(seq);
            }
            SchedulerOutput out = scheduler.schedule();
            checkStep(out, manager);
            SchedulerFixtures.complete(scheduler, out, SchedulerFixtures.FAKE_MODEL);
        }

        assertTrue(scheduler.numPreemptions() > 10, "preemptions: " + scheduler.numPreemptions());
        for (Sequence seq : all) {
            int expectedLen = Math.min(seq.params().maxTokens(), MAX_MODEL_LEN - seq.numPromptTokens());
            assertArrayEquals(referenceOutput(seq.promptTokenIds(), expectedLen), seq.outputTokenIds(), seq.toString());
            assertEquals(FinishReason.LENGTH, seq.finishReason().orElseThrow());
        }
        assertEquals(NUM_BLOCKS, manager.numFreeBlocks());
    }

    private static void checkStep(SchedulerOutput out, KvCacheManager manager) {
        assertTrue(out.totalNumScheduledTokens() <= CONFIG.maxNumBatchedTokens());
        assertTrue(out.scheduled().size() <= CONFIG.maxNumSeqs());
        int usedBlocks = 0;
        for (ScheduledSequence s : out.scheduled()) {
            Sequence seq = s.seq();
            assertTrue(s.numScheduledTokens() >= 1);
            assertEquals(SequenceStatus.RUNNING, seq.status());
            int end = seq.numComputedTokens() + s.numScheduledTokens();
            assertTrue(end <= seq.numTokens());
            assertEquals(end == seq.numTokens(), s.samples());
            assertEquals((end + BLOCK_SIZE - 1) / BLOCK_SIZE, seq.numBlocks(), seq.toString());
            usedBlocks += seq.numBlocks();
        }
        assertTrue(usedBlocks + manager.numFreeBlocks() <= NUM_BLOCKS);
        for (Sequence seq : out.preempted()) {
            assertEquals(SequenceStatus.WAITING, seq.status());
            assertEquals(0, seq.numBlocks());
        }
    }
}
