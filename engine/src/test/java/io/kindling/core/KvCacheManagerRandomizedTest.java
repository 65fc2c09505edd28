package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Random allocate / append / free / preempt traffic on a small pool, with the cache invariants checked after every op. */
class KvCacheManagerRandomizedTest {

    private static final int NUM_BLOCKS = 24;
    private static final int BLOCK_SIZE = 4;
    private static final int NUM_SEQS = 12;
    private static final int NUM_OPS = 20_000;

    private final BlockPool pool = new BlockPool(NUM_BLOCKS, BLOCK_SIZE);
    private final KvCacheManager manager = new KvCacheManager(pool, true);
    private final Random random = new Random(20241125);
    private final List<Sequence> seqs = new ArrayList<>();
    private long nextSeqId;
    private int failedAllocations;
    private int preemptions;

    @Test
    void invariantsHoldAfterEveryOperation() {
        for (int i = 0; i < NUM_SEQS; i++) {
            seqs.add(newSequence());
        }
        for (int op = 0; op < NUM_OPS; op++) {
            int i = random.nextInt(seqs.size());
            Sequence seq = seqs.get(i);
            int choice = random.nextInt(100);
            if (choice < 60) {
                allocateAndCompute(seq);
            } else if (choice < 85) {
                seq.appendTokenId(random.nextInt(1000));
            } else if (choice < 93) {
                manager.free(seq);
                seq.preempt();
                preemptions++;
            } else {
                manager.free(seq);
                seqs.set(i, newSequence());
            }
            checkInvariants();
        }
        // the pool was genuinely contended, and every path ran
        assertTrue(failedAllocations > 500, "failed allocations: " + failedAllocations);
        assertTrue(preemptions > 500, "preemptions: " + preemptions);
    }

    private void allocateAndCompute(Sequence seq) {
        int uncomputed = seq.numTokens() - seq.numComputedTokens();
        if (uncomputed == 0) {
            return;
        }
        int n = 1 + random.nextInt(uncomputed);
        int numFreeBefore = manager.numFreeBlocks();
        int[] tableBefore = seq.blockTable();
        int needed = ceilDiv(seq.numComputedTokens() + n, BLOCK_SIZE) - seq.numBlocks();

        boolean ok = manager.allocateSlots(seq, n);

        assertEquals(needed <= numFreeBefore, ok);
        if (ok) {
            assertEquals(ceilDiv(seq.numComputedTokens() + n, BLOCK_SIZE), seq.numBlocks());
            seq.addComputedTokens(n);
        } else {
            failedAllocations++;
            assertEquals(numFreeBefore, manager.numFreeBlocks());
            assertArrayEquals(tableBefore, seq.blockTable());
        }
    }

    private void checkInvariants() {
        int[] holders = new int[NUM_BLOCKS];
        for (Sequence seq : seqs) {
            assertEquals(ceilDiv(seq.numComputedTokens(), BLOCK_SIZE), seq.numBlocks(), seq.toString());
            for (int id : seq.blockTable()) {
                holders[id]++;
            }
        }
        List<Integer> free = FreeBlocks.ids(pool);
        Set<Integer> freeSet = new HashSet<>(free);
        assertEquals(free.size(), freeSet.size(), "a block is queued twice");
        assertEquals(free.size(), manager.numFreeBlocks());
        int used = 0;
        for (int id = 0; id < NUM_BLOCKS; id++) {
            assertTrue(holders[id] <= 1, "block " + id + " is in " + holders[id] + " tables");
            assertEquals(holders[id], pool.block(id).refCnt, "refCnt of block " + id);
            assertEquals(holders[id] == 0, freeSet.contains(id), "block " + id + " free xor held");
            used += holders[id] > 0 ? 1 : 0;
        }
        assertEquals(NUM_BLOCKS, free.size() + used);
    }

    private Sequence newSequence() {
        int[] prompt = random.ints(1 + random.nextInt(30), 0, 1000).toArray();
        return new Sequence("r" + nextSeqId, nextSeqId++, prompt, SamplingParams.greedy(16));
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
