package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.backend.BatchInputs;
import java.nio.IntBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The step plan behind the attention kernels' launches, and its metadata layout (no GPU needed). */
class AttentionPlanTest {

    private static final int NONE = Integer.MAX_VALUE;

    @Test
    void splitsDecodeFromPrefillAndLaysOutTheMetadata() {
        // seq 0 decodes at context 40; seq 1 prefills 70 tokens over a 30-token cached prefix; seq 2 decodes at 5
        BatchInputs batch = batch(new int[] {40, 100, 5}, new int[] {0, 1, 71, 72},
                new int[][] {{7, 3, 9}, {1, 2, 4, 5, 6, 8, 10}, {11}});
        IntBuffer dst = IntBuffer.allocate(64);
        AttentionPlan plan = AttentionPlan.write(batch, 16, NONE, 8, 132, dst);

        assertEquals(2, plan.numDecode());
        assertEquals(2, plan.numTiles(), "70 query rows: tiles of 64 and 6");
        assertEquals(7, plan.blockTableStride());
        int[] ints = Arrays.copyOf(dst.array(), plan.numInts());
        assertArrayEquals(new int[] {40, 100, 5}, Arrays.copyOfRange(ints, plan.seqLensAt(), plan.seqLensAt() + 3));
        assertArrayEquals(new int[] {0, 1, 71, 72},
                Arrays.copyOfRange(ints, plan.queryStartLocAt(), plan.queryStartLocAt() + 4));
        assertArrayEquals(new int[] {0, 2}, Arrays.copyOfRange(ints, plan.decodeSeqsAt(), plan.decodeSeqsAt() + 2));
        // the tile with more keys (rows 64..69, keys up to 99) first
        assertArrayEquals(new int[] {1, 64, 1, 0}, Arrays.copyOfRange(ints, plan.tilesAt(), plan.tilesAt() + 4));
        assertArrayEquals(new int[] {7, 3, 9, 0, 0, 0, 0, 1, 2, 4, 5, 6, 8, 10, 11, 0, 0, 0, 0, 0, 0},
                Arrays.copyOfRange(ints, plan.blockTablesAt(), plan.numInts()));
    }

    @Test
    void splitsLongContextsAndShortensPartitionsOnlyWhileTheGridIsSmall() {
        int[] ctx = new int[256];
        Arrays.fill(ctx, 2048);
        AttentionPlan full = AttentionPlan.write(decodeBatch(ctx), 16, NONE, 8, 132, IntBuffer.allocate(1 << 20));
        assertEquals(512, full.partitionTokens());
        assertEquals(4, full.decodePartitions());

        AttentionPlan one = AttentionPlan.write(decodeBatch(new int[] {3000}), 16, NONE, 8, 132,
                IntBuffer.allocate(1 << 12));
        assertEquals(128, one.partitionTokens(), "one sequence: 8 kv heads x 6 partitions would leave SMs idle");
        assertEquals(AttentionPlan.MAX_PARTITIONS, one.decodePartitions());

        AttentionPlan windowed = AttentionPlan.write(decodeBatch(ctx), 16, 300, 8, 132, IntBuffer.allocate(1 << 20));
        assertEquals(1, windowed.decodePartitions(), "a 300-token window is one partition");
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
