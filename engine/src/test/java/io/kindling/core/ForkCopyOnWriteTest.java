package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Forks share every block; the first writer into a shared, partly filled last block gets a copy (vLLM style). */
class ForkCopyOnWriteTest {

    private static final int BLOCK_SIZE = 4;

    private final BlockPool pool = new BlockPool(10, BLOCK_SIZE);
    private final KvCacheManager manager = new KvCacheManager(pool, true);

    @Test
    void forkSharesEveryBlockAndFreeingDropsOneReferenceEach() {
        Sequence parent = prefilled(6); // blocks 0 1, block 1 half full
        Sequence child = parent.fork();
        manager.fork(parent, child);

        assertArrayEquals(new int[] {0, 1}, child.blockTable());
        assertEquals(2, pool.block(0).refCnt);
        assertEquals(2, pool.block(1).refCnt);
        assertEquals(2, pool.numSharedRefs());
        assertEquals(8, pool.numFreeBlocks());
        assertEquals(6, child.numComputedTokens());

        manager.free(parent);
        assertEquals(1, pool.block(0).refCnt);
        assertEquals(1, pool.block(1).refCnt);
        assertEquals(0, pool.numSharedRefs());
        assertEquals(8, pool.numFreeBlocks());
        manager.free(child);
        assertEquals(List.of(2, 3, 4, 5, 6, 7, 8, 9, 1, 0), FreeBlocks.ids(pool));
    }

    @Test
    void theFirstWriterIntoTheSharedLastBlockCopiesItAndTheLastWritesInPlace() {
        Sequence parent = prefilled(6);
        Sequence a = parent.fork();
        Sequence b = parent.fork();
        manager.fork(parent, a);
        manager.fork(parent, b);
        assertEquals(3, pool.block(1).refCnt);
        parent.appendTokenId(50);
        a.appendTokenId(51);
        b.appendTokenId(52);

        assertTrue(manager.allocateSlots(parent, 1)); // slot 6 lies in shared block 1: copy it to block 2
        assertArrayEquals(new int[] {0, 2}, parent.blockTable());
        assertTrue(manager.allocateSlots(a, 1));      // still shared with b: copy to block 3
        assertArrayEquals(new int[] {0, 3}, a.blockTable());
        assertTrue(manager.allocateSlots(b, 1));      // b holds block 1 alone now: writes it in place
        assertArrayEquals(new int[] {0, 1}, b.blockTable());

        SchedulerOutput copies = takeBlocksToCopy();
        assertArrayEquals(new int[] {1, 1}, copies.copySrc());
        assertArrayEquals(new int[] {2, 3}, copies.copyDst());
        assertEquals(0, takeBlocksToCopy().copySrc().length);
        assertEquals(3, pool.block(0).refCnt);
        for (int id : new int[] {1, 2, 3}) {
            assertEquals(1, pool.block(id).refCnt);
        }
        assertEquals(2, pool.numSharedRefs());
    }

    @Test
    void aForkAtABlockBoundaryCopiesNothing() {
        Sequence parent = prefilled(8); // blocks 0 1, both full
        Sequence child = parent.fork();
        manager.fork(parent, child);
        parent.appendTokenId(50);
        child.appendTokenId(51);

        assertTrue(manager.allocateSlots(parent, 1));
        assertTrue(manager.allocateSlots(child, 1));
        assertArrayEquals(new int[] {0, 1, 2}, parent.blockTable());
        assertArrayEquals(new int[] {0, 1, 3}, child.blockTable());
        assertEquals(0, takeBlocksToCopy().copySrc().length);
    }

    @Test
    void noFreeBlockForTheCopyChangesNothing() {
        Sequence parent = prefilled(6);
        Sequence child = parent.fork();
        manager.fork(parent, child);
        manager.allocateSlots(sequence("filler", 32), 32); // blocks 2..9
        parent.appendTokenId(50);

        assertFalse(manager.allocateSlots(parent, 1));
        assertArrayEquals(new int[] {0, 1}, parent.blockTable());
        assertEquals(2, pool.block(1).refCnt);
        assertEquals(0, takeBlocksToCopy().copySrc().length);
    }

    @Test
    void forksShareBlocksAndTheSchedulerHandsTheCopiesToTheStep() {
        Scheduler scheduler = SchedulerFixtures.scheduler(manager, SchedulerConfig.of(8, 64, 40));
        Sequence parent = sequence("p", 6);
        scheduler.add(parent);
        SchedulerOutput prefill = scheduler.schedule();
        assertEquals(List.of(parent), scheduler.postprocess(prefill));
        List<Sequence> samples = RequestGroup.continueWith(scheduler, parent, new int[] {50, 51, 52});

        assertEquals(3, samples.size());
        assertEquals(parent, samples.get(0));
        assertEquals(List.of(50, 51, 52), samples.stream().map(Sequence::lastTokenId).toList());
        assertEquals(3, scheduler.numRunning());

        SchedulerOutput decode = scheduler.schedule();
        assertEquals(List.of("p=1 sample", "p=1 sample", "p=1 sample"), SchedulerFixtures.describe(decode));
        assertArrayEquals(new int[] {1, 1}, decode.copySrc());
        assertArrayEquals(new int[] {2, 3}, decode.copyDst());
        assertArrayEquals(new int[] {0, 1}, samples.get(2).blockTable());

        assertEquals(List.of(), RequestGroup.continueWith(scheduler, samples.get(1), new int[0])); // dropped: its copy is freed
        assertTrue(samples.get(1).isFinished());
        assertEquals(0, pool.block(3).refCnt);
    }

    private Sequence prefilled(int promptLen) {
        Sequence seq = sequence("p", promptLen);
        assertTrue(manager.allocateSlots(seq, promptLen));
        seq.addComputedTokens(promptLen);
        seq.setRunning();
        return seq;
    }

    private SchedulerOutput takeBlocksToCopy() {
        SchedulerOutput out = new SchedulerOutput();
        manager.takeBlocksToCopy(out);
        return out;
    }

    private static Sequence sequence(String id, int promptLen) {
        return new Sequence(id, 0, IntStream.range(100, 100 + promptLen).toArray(), SamplingParams.greedy(8));
    }
}
