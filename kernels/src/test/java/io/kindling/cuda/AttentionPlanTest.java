package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.BatchInputs;
import java.nio.IntBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The step plan behind the attention kernels' launches, and its metadata layout (no GPU needed). */
class AttentionPlanTest {

    private static final int NONE = Integer.MAX_VALUE;
    /** Partitions of 512 keys, at most 32 (the split these expectations were written for). */
    private static final DecodeTuning SPLIT = new DecodeTuning(4, 3, 512, 32, true, false);

    @Test
    void splitsDecodeFromPrefillAndLaysOutTheMetadata() {
        // seq 0 decodes at context 40; seq 1 prefills 70 tokens over a 30-token cached prefix; seq 2 decodes at 5
        BatchInputs batch = batch(new int[] {40, 100, 5}, new int[] {0, 1, 71, 72},
                new int[][] {{7, 3, 9}, {1, 2, 4, 5, 6, 8, 10}, {11}});
        IntBuffer dst = IntBuffer.allocate(128);
        AttentionPlan plan = AttentionPlan.write(batch, 16, NONE, SPLIT, 1, dst);

        assertEquals(2, plan.numDecode());
        assertEquals(2, plan.numWork());
        assertEquals(2, plan.workSlots(), "a mixed step's work list holds its own items only");
        assertEquals(2, plan.numTiles(), "70 query rows: tiles of 64 and 6");
        assertEquals(7, plan.blockTableStride());
        int[] ints = Arrays.copyOf(dst.array(), plan.numInts());
        assertArrayEquals(new int[] {2, 0, 0, 0, 0, 0, 0, 40, 0, 1, 0, 0, 2, 0, 0, 5, 71, 1, 0, 0},
                range(ints, plan.workAt(), 20), "{numWork, -, -, -}, then {seq, partition, first key, end key, "
                        + "query token, partitions, first partial slot, -}");
        assertArrayEquals(new int[] {40, 100, 5}, range(ints, plan.seqLensAt(), 3));
        assertArrayEquals(new int[] {0, 1, 71, 72}, range(ints, plan.queryStartLocAt(), 4));
        // the tile with more keys (rows 64..69, keys up to 99) first
        assertArrayEquals(new int[] {1, 64, 1, 0}, range(ints, plan.tilesAt(), 4));
        assertArrayEquals(new int[] {7, 3, 9, 0, 0, 0, 0, 1, 2, 4, 5, 6, 8, 10, 11, 0, 0, 0, 0, 0, 0},
                Arrays.copyOfRange(ints, plan.blockTablesAt(), plan.numInts()));
    }

    @Test
    void splitsEachContextByItsOwnLengthWithPartialSlotsFromAPrefixSum() {
        // 3000 keys: 6 partitions of 500; 100 keys: one; 1025 keys: 3 of 342 (the last 341); 20000 keys: the cap of
        // 32 partitions, of 625
        int[] ctx = {3000, 100, 1025, 20000};
        IntBuffer dst = IntBuffer.allocate(1 << 14);
        AttentionPlan plan = AttentionPlan.write(decodeBatch(ctx), 16, NONE, SPLIT, 1, dst);
        int[] ints = dst.array();

        assertEquals(6 + 1 + 3 + 32, plan.numWork());
        assertEquals(32, plan.maxSplit());
        assertEquals(6 + 3 + 32, plan.splitSlots(), "a sequence in one partition needs no partial slot");
        assertArrayEquals(new int[] {0, 0, 0, 500, 0, 6, 0, 0, 0, 1, 500, 1000, 0, 6, 0, 0}, item(ints, 0, 2));
        assertArrayEquals(new int[] {0, 5, 2500, 3000, 0, 6, 0, 0, 1, 0, 0, 100, 1, 1, 6, 0, 2, 0, 0, 342, 2, 3, 6, 0},
                item(ints, 5, 3));
        assertArrayEquals(new int[] {2, 2, 684, 1025, 2, 3, 6, 0, 3, 0, 0, 625, 3, 32, 9, 0}, item(ints, 9, 2));
        assertArrayEquals(new int[] {3, 31, 19375, 20000, 3, 32, 9, 0}, item(ints, 41, 1));

        AttentionPlan windowed = AttentionPlan.write(decodeBatch(new int[] {2048}), 16, 300, SPLIT, 1, dst);
        assertEquals(1, windowed.numWork(), "a 300-token window is one partition");
        assertArrayEquals(new int[] {0, 0, 1748, 2048, 0, 1, 0, 0}, item(dst.array(), 0, 1));
    }

    @Test
    void theDefaultSplitGivesALongContextAloneItsMostPartitions() {
        DecodeTuning tuning = DecodeTuning.DEFAULT;
        int most = tuning.maxPartitions();
        IntBuffer dst = IntBuffer.allocate(1 << 14);
        AttentionPlan alone = AttentionPlan.write(decodeBatch(new int[] {32768}), 16, NONE, tuning, 1, dst);
        assertEquals(most, alone.numWork(), "32k keys: the most partitions");
        int length = 32768 / most;
        assertArrayEquals(new int[] {0, most - 1, 32768 - length, 32768, 0, most, 0, 0},
                item(dst.array(), most - 1, 1));
        AttentionPlan longer = AttentionPlan.write(decodeBatch(new int[] {100000}), 16, NONE, tuning, 1, dst);
        assertEquals(most, longer.numWork(), "longer contexts get longer partitions");
        assertEquals(1, tuning.partitions(tuning.partitionTokens()));
        assertEquals(2, tuning.partitions(tuning.partitionTokens() + 1));
        assertEquals(1, tuning.partitions(1));
    }

    @Test
    void aSequencesSplitDoesNotDependOnItsBatch() {
        IntBuffer alone = IntBuffer.allocate(1 << 12);
        AttentionPlan.write(decodeBatch(new int[] {5000}), 16, NONE, DecodeTuning.DEFAULT, 1, alone);
        IntBuffer batched = IntBuffer.allocate(1 << 14);
        AttentionPlan.write(decodeBatch(new int[] {30, 5000, 700, 1, 1}), 16, NONE, DecodeTuning.DEFAULT, 64,
                batched);

        int count = DecodeTuning.DEFAULT.partitions(5000);
        assertTrue(count > 1, "a split sequence");
        int[] items = item(alone.array(), 0, count);
        int[] inBatch = item(batched.array(), 1, count);  // after seq 0's one item
        for (int i = 0; i < items.length; i += 8) {
            assertEquals(1, inBatch[i], "sequence index in the batch");
            assertEquals(1, inBatch[i + 4], "query token in the batch");
            assertEquals(0, inBatch[i + 6], "the batch's first split sequence: partial slots from 0");
            inBatch[i] = 0;
            inBatch[i + 4] = 0;
        }
        assertArrayEquals(items, inBatch, "partition, keys, partitions");
    }

    @Test
    void decodeStepsOfEqualBatchAndStrideLaunchAlike() {
        // padding sequences as the graph runner adds them: context 1 in block 0
        BatchInputs a = batch(new int[] {700, 16, 1, 1}, new int[] {0, 1, 2, 3, 4},
                new int[][] {blocks(44, 100), blocks(1, 7), {0}, {0}});
        BatchInputs b = batch(new int[] {3, 1024, 513, 1}, new int[] {0, 1, 2, 3, 4},
                new int[][] {blocks(1, 9), blocks(64, 200), blocks(33, 300), {0}});
        IntBuffer dst = IntBuffer.allocate(1 << 14);
        AttentionPlan planA = AttentionPlan.write(a, 16, NONE, SPLIT, 128, dst);
        AttentionPlan planB = AttentionPlan.write(b, 16, NONE, SPLIT, 128, dst);

        assertNotEquals(planA.numWork(), planB.numWork(), "the steps differ in their work");
        assertEquals(planA.launchShape(), planB.launchShape());
        assertEquals(4 * 4, planA.workSlots(), "4 sequences x the 4 partitions a 128-block table can need");
        assertEquals(planA.numInts(), planB.numInts());
        assertEquals(planA.blockTablesAt(), planB.blockTablesAt());
        assertEquals(new AttentionPlan.LaunchShape(4, 4, 16, 0, 128), planA.launchShape());

        AttentionPlan wider = AttentionPlan.write(a, 16, NONE, SPLIT, 256, dst);
        assertNotEquals(planA.launchShape(), wider.launchShape());
        AttentionPlan eager = AttentionPlan.write(a, 16, NONE, SPLIT, 1, dst);
        assertEquals(44, eager.blockTableStride(), "without a minimum the stride is the longest table in use");
    }

    private static int[] blocks(int count, int first) {
        int[] table = new int[count];
        Arrays.setAll(table, i -> first + i);
        return table;
    }

    /** {@code count} work items from item {@code first} on (8 ints each, after the 4-int header). */
    private static int[] item(int[] ints, int first, int count) {
        return range(ints, 4 + 8 * first, 8 * count);
    }

    private static int[] range(int[] ints, int from, int length) {
        return Arrays.copyOfRange(ints, from, from + length);
    }

    private static BatchInputs decodeBatch(int[] seqLens) {
        int[] qsl = new int[seqLens.length + 1];
        int[][] tables = new int[seqLens.length][];
        for (int s = 0; s < seqLens.length; s++) {
            qsl[s + 1] = s + 1;
            tables[s] = new int[(seqLens[s] + 15) / 16];
        }
        return batch(seqLens, qsl, tables);
    }

    /** Positions and slots are not read by the planner. */
    private static BatchInputs batch(int[] seqLens, int[] qsl, int[][] tables) {
        int n = qsl[qsl.length - 1];
        return new BatchInputs(new int[n], new int[n], new int[n], qsl, seqLens, tables, new int[0]);
    }
}
