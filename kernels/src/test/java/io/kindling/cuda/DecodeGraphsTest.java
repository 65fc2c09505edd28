package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.BatchInputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CPU side of the decode graphs: buckets, strides and padding. */
class DecodeGraphsTest {

    @Test
    void bucketsAsVllmCapturesThem() {
        DecodeGraphs graphs = new DecodeGraphs(300, 8192);
        List<Integer> seen = new ArrayList<>();
        for (int n = 1; n <= 300; n++) {
            int b = graphs.bucket(n);
            assertTrue(b >= n, "bucket " + b + " of " + n);
            if (!seen.contains(b)) {
                seen.add(b);
            }
        }
        assertEquals(List.of(1, 2, 4, 8, 16, 24, 32), seen.subList(0, 7));
        assertEquals(256, seen.get(seen.size() - 3));
        assertEquals(List.of(288, 300), seen.subList(seen.size() - 2, seen.size()));
        assertEquals(4 + 31 + 2, seen.size());
        assertEquals(seen.size() * 10, graphs.maxGraphs()); // strides 16, 32, ..., 8192
    }

    @Test
    void stridesArePowersOfTwoFromSixteenCappedAtTheLongestTable() {
        DecodeGraphs graphs = new DecodeGraphs(8, 100);
        assertEquals(16, graphs.strideBucket(1));
        assertEquals(16, graphs.strideBucket(16));
        assertEquals(32, graphs.strideBucket(17));
        assertEquals(64, graphs.strideBucket(64));
        assertEquals(100, graphs.strideBucket(65));
        assertEquals(4, new DecodeGraphs(8, 4).strideBucket(3));
    }

    @Test
    void padsWithSequencesThatWriteNothingAndReadBlockZero() {
        BatchInputs batch = new BatchInputs(new int[] {7, 9}, new int[] {40, 3}, new int[] {651, 35},
                new int[] {0, 1, 2}, new int[] {41, 4}, new int[][] {{3, 40, 5}, {2}}, new int[] {0, 1});
        assertTrue(DecodeGraphs.isDecodeOnly(batch));
        DecodeGraphs graphs = new DecodeGraphs(8, 16);
        BatchInputs padded = graphs.pad(batch, 4);
        assertEquals(4, padded.numTokens());
        assertEquals(4, padded.numSeqs());
        assertEquals(4, padded.numLogits());
        assertArrayEquals(new int[] {7, 9, 0, 0}, Arrays.copyOf(padded.inputIds(), 4));
        assertArrayEquals(new int[] {40, 3, 0, 0}, Arrays.copyOf(padded.positions(), 4));
        assertArrayEquals(new int[] {651, 35, -1, -1}, Arrays.copyOf(padded.slotMapping(), 4));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, Arrays.copyOf(padded.queryStartLoc(), 5));
        assertArrayEquals(new int[] {41, 4, 1, 1}, Arrays.copyOf(padded.seqLens(), 4));
        assertArrayEquals(new int[] {0}, padded.blockTables()[3]);
        assertArrayEquals(new int[] {0, 1, 2, 3}, Arrays.copyOf(padded.logitsIndices(), 4));
    }

    @Test
    void aSmallerStepPadsOverTheLastOnesEntries() {
        DecodeGraphs graphs = new DecodeGraphs(8, 16);
        graphs.pad(new BatchInputs(new int[] {1, 2, 3, 4, 5}, new int[] {10, 11, 12, 13, 14},
                new int[] {10, 11, 12, 13, 14}, new int[] {0, 1, 2, 3, 4, 5}, new int[] {11, 12, 13, 14, 15},
                new int[][] {{0}, {0}, {0}, {0}, {0}}, new int[] {0, 1, 2, 3, 4}), 8);
        BatchInputs padded = graphs.pad(new BatchInputs(new int[] {7, 9, 8}, new int[] {40, 3, 0},
                new int[] {651, 35, 16}, new int[] {0, 1, 2, 3}, new int[] {41, 4, 1},
                new int[][] {{3, 40, 5}, {2}, {1}}, new int[] {0, 1, 2}), 4);
        assertEquals(4, padded.numSeqs());
        assertArrayEquals(new int[] {7, 9, 8, 0}, Arrays.copyOf(padded.inputIds(), 4));
        assertArrayEquals(new int[] {40, 3, 0, 0}, Arrays.copyOf(padded.positions(), 4));
        assertArrayEquals(new int[] {651, 35, 16, -1}, Arrays.copyOf(padded.slotMapping(), 4));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, Arrays.copyOf(padded.queryStartLoc(), 5));
        assertArrayEquals(new int[] {41, 4, 1, 1}, Arrays.copyOf(padded.seqLens(), 4));
        assertArrayEquals(new int[] {0}, padded.blockTables()[3]);
    }

    @Test
    void aStepThatFillsItsBucketIsItsOwnPadding() {
        BatchInputs batch = new BatchInputs(new int[] {7, 9}, new int[] {40, 3}, new int[] {651, 35},
                new int[] {0, 1, 2}, new int[] {41, 4}, new int[][] {{3, 40, 5}, {2}}, new int[] {0, 1});
        assertSame(batch, new DecodeGraphs(8, 16).pad(batch, 2));
    }

    @Test
    void aStepWithAPromptChunkIsNotDecodeOnly() {
        BatchInputs mixed = new BatchInputs(new int[] {7, 9, 10}, new int[] {40, 0, 1}, new int[] {651, 32, 33},
                new int[] {0, 1, 3}, new int[] {41, 2}, new int[][] {{3, 40, 5}, {2}}, new int[] {0, 2});
        assertFalse(DecodeGraphs.isDecodeOnly(mixed));
    }
}
