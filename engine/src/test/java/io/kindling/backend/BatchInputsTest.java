package io.kindling.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The step inputs' capacity: a step of another shape reuses the arrays it fits in. */
class BatchInputsTest {

    @Test
    void aStepThatFitsKeepsTheArraysAndOneThatDoesNotAtLeastDoublesThem() {
        BatchInputs batch = new BatchInputs();
        batch.reset(4, 10, 3);
        int[] inputIds = batch.inputIds();
        int[] queryStartLoc = batch.queryStartLoc();
        int[][] blockTables = batch.blockTables();
        batch.reset(2, 6, 1);
        assertEquals(2, batch.numSeqs());
        assertEquals(6, batch.numTokens());
        assertEquals(1, batch.numLogits());
        assertSame(inputIds, batch.inputIds());
        assertSame(queryStartLoc, batch.queryStartLoc());
        assertSame(blockTables, batch.blockTables());
        batch.reset(5, 11, 3);
        assertNotSame(inputIds, batch.inputIds());
        assertEquals(20, batch.inputIds().length);
        assertEquals(20, batch.positions().length);
        assertEquals(20, batch.slotMapping().length);
        assertEquals(10, batch.queryStartLoc().length);
        assertEquals(8, batch.seqLens().length);
        assertEquals(8, batch.blockTables().length);
        assertEquals(3, batch.logitsIndices().length);
    }

    @Test
    void exactArraysGiveTheCountsAndMustAgree() {
        BatchInputs batch = new BatchInputs(new int[] {5, 6, 7}, new int[] {0, 1, 0}, new int[] {0, 1, 16},
                new int[] {0, 2, 3}, new int[] {2, 1}, new int[][] {{0}, {1}}, new int[] {1});
        assertEquals(3, batch.numTokens());
        assertEquals(2, batch.numSeqs());
        assertEquals(1, batch.numLogits());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BatchInputs(
                new int[] {5, 6}, new int[] {0}, new int[] {0, 1}, new int[] {0, 2}, new int[] {2},
                new int[][] {{0}}, new int[0]));
        assertEquals("invalid batch: positions and slotMapping must have one entry per token (2)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BatchInputs(new int[] {5}, new int[] {0},
                new int[] {0}, new int[] {0, 1}, new int[] {1}, new int[0][], new int[0]));
        assertEquals("invalid batch: queryStartLoc needs numSeqs + 1 entries and blockTables numSeqs, numSeqs = 1",
                e.getMessage());
    }

    @Test
    void deferredTokensGrowAsAddedAndResolveOnlyTheirOwn() {
        DeferredTokens deferred = new DeferredTokens();
        for (int i = 0; i < 5; i++) {
            deferred.add(i, 4 - i);
        }
        int[] tokenIndices = deferred.tokenIndices();
        deferred.clear();
        deferred.add(1, 0);
        deferred.add(3, 2);
        assertEquals(2, deferred.size());
        assertSame(tokenIndices, deferred.tokenIndices());
        int[] inputIds = new int[5];
        deferred.resolve(new int[] {70, 71, 72, 73, 74}, inputIds);
        assertArrayEquals(new int[] {0, 70, 0, 72, 0}, inputIds);
    }

    @Test
    void noneIsNeverAddedTo() {
        assertThrows(UnsupportedOperationException.class, () -> DeferredTokens.NONE.add(0, 0));
        assertEquals(0, DeferredTokens.NONE.size());
        assertEquals(0, DeferredTokens.NONE.tokenIndices().length);
    }
}
