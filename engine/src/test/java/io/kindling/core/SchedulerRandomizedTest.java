package io.kindling.core;

import static io.kindling.core.SchedulerFixtures.referenceOutput;
import static io.kindling.core.SchedulerFixtures.sequence;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.LongFunction;
import java.util.stream.IntStream;
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
        run(false, random, n -> sequence(n, 1 + random.nextInt(30), SamplingParams.greedy(1 + random.nextInt(20))));
    }

    @Test
    void sharedPrefixesChangeWhatIsComputedNeverTheOutputs() {
        Random random = new Random(11);
        int[][] prefixes = {random.ints(13, 0, 900).toArray(), random.ints(8, 0, 900).toArray(), new int[0]};
        BlockPool pool = run(true, random, n -> {
            int[] prefix = prefixes[random.nextInt(prefixes.length)];
            int[] prompt = IntStream.concat(Arrays.stream(prefix),
                    random.ints(1 + random.nextInt(16), 0, 900)).toArray();
            return new Sequence("req-" + n, n, prompt, SamplingParams.greedy(1 + random.nextInt(20)));
        });
        assertTrue(pool.numCachedBlocks() > 0);
    }

    private BlockPool run(boolean requireHits, Random random, LongFunction<Sequence> newSequence) {
        BlockPool pool = new BlockPool(NUM_BLOCKS, BLOCK_SIZE);
        KvCacheManager manager = new KvCacheManager(pool, true);
        Scheduler scheduler = SchedulerFixtures.scheduler(manager, CONFIG);
        List<Sequence> all = new ArrayList<>();

        for (int stepNo = 0; all.size() < 80 || scheduler.hasUnfinished(); stepNo++) {
            assertTrue(stepNo < 10_000, "no progress");
            for (int k = random.nextInt(3); k > 0 && all.size() < 80; k--) {
                Sequence seq = newSequence.apply(all.size());
                scheduler.add(seq);
                all.add(seq);
            }
            SchedulerOutput out = scheduler.schedule();
            checkStep(out, manager);
            checkBlocks(all, pool);
            SchedulerFixtures.complete(scheduler, out, SchedulerFixtures.FAKE_MODEL);
        }

        assertTrue(scheduler.numPreemptions() > 10, "preemptions: " + scheduler.numPreemptions());
        KvCacheStats stats = manager.stats();
        assertTrue(!requireHits || stats.hitTokens() > 100 && stats.peakSharedBlocks() > 0, stats.toString());
        for (Sequence seq : all) {
            int expectedLen = Math.min(seq.params().maxTokens(), MAX_MODEL_LEN - seq.numPromptTokens());
            assertArrayEquals(referenceOutput(seq.promptTokenIds(), expectedLen), seq.outputTokenIds(), seq.toString());
            assertEquals(FinishReason.LENGTH, seq.finishReason().orElseThrow());
        }
        assertEquals(NUM_BLOCKS, manager.numFreeBlocks());
        return pool;
    }

    /**
     * Every block's reference count is the number of tables holding it, the free queue holds exactly the
     * unreferenced blocks, and a cached block is found by the tokens of every sequence that uses it.
     */
    private static void checkBlocks(List<Sequence> all, BlockPool pool) {
        int[] holders = new int[NUM_BLOCKS];
        for (Sequence seq : all) {
            for (int i = 0; i < seq.numBlocks(); i++) {
                KvCacheBlock b = pool.block(seq.blockId(i));
                holders[b.blockId]++;
                if (b.isCached()) {
                    assertEquals(Optional.of(b), pool.getCachedBlock(b.blockHash, b.parentCacheId,
                            seq.tokenIds(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE), b.extraKey), seq.toString());
                }
            }
        }
        Set<Integer> free = new HashSet<>(FreeBlocks.ids(pool));
        for (int id = 0; id < NUM_BLOCKS; id++) {
            assertEquals(holders[id], pool.block(id).refCnt, "refCnt of block " + id);
            assertEquals(holders[id] == 0, free.contains(id), "block " + id + " free xor held");
        }
    }

    private static void checkStep(SchedulerOutput out, KvCacheManager manager) {
        assertTrue(out.totalNumScheduledTokens() <= CONFIG.maxNumBatchedTokens());
        assertTrue(out.numScheduled() <= CONFIG.maxNumSeqs());
        Set<Integer> usedBlocks = new HashSet<>();
        for (int i = 0; i < out.numScheduled(); i++) {
            Sequence seq = out.seq(i);
            assertTrue(out.numScheduledTokens(i) >= 1);
            assertEquals(SequenceStatus.RUNNING, seq.status());
            int end = seq.numComputedTokens() + out.numScheduledTokens(i);
            assertTrue(end <= seq.numTokens());
            assertEquals(end == seq.numTokens(), out.samples(i));
            assertEquals((end + BLOCK_SIZE - 1) / BLOCK_SIZE, seq.numBlocks(), seq.toString());
            for (int id : seq.blockTable()) {
                usedBlocks.add(id);
            }
        }
        assertTrue(usedBlocks.size() + manager.numFreeBlocks() <= NUM_BLOCKS);
        for (Sequence seq : out.preempted()) {
            assertEquals(SequenceStatus.WAITING, seq.status());
            assertEquals(0, seq.numBlocks());
        }
    }
}
